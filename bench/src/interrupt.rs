//! Ctrl-C and SIGTERM: the benchmark ends what it started (the servers, a
//! throwaway PostgreSQL) before it exits. A signal's default action would end
//! it without running a destructor, and leave them running.

use tokio::signal::unix::{signal, SignalKind};

/// Runs `cleanup` and exits (130 on SIGINT, 143 on SIGTERM) when one of the
/// two signals arrives; watched by a thread of its own.
pub fn on_signal(cleanup: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("on-signal".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let code = runtime.block_on(async {
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return None;
                };
                tokio::select! {
                    _ = int.recv() => Some(130),
                    _ = term.recv() => Some(143),
                }
            });
            if let Some(code) = code {
                eprintln!("webra2-bench: interrupted; stopping what it started");
                cleanup();
                std::process::exit(code);
            }
        });
    if let Err(e) = spawned {
        eprintln!("note: no signal handler ({e}): an interrupt would leave servers running");
    }
}
