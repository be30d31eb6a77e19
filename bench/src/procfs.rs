//! What the kernel accounts for a process (CPU time, resident memory) and for
//! the machine (cores, CPU model, load), read from `/proc`.

use anyhow::{anyhow, Context};
use std::process::Command;

/// The clock ticks per second that `/proc/<pid>/stat` counts CPU time in.
pub fn clock_ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|t| *t > 0)
        // Linux has used 100 on every mainstream architecture for decades.
        .unwrap_or(100)
}

/// User plus system CPU time the process has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("/proc/{pid}/stat: no command name"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let tick = |i: usize| -> anyhow::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| anyhow!("/proc/{pid}/stat: field {} unreadable", i + 3))
    };
    let ticks = tick(11)? + tick(12)?;
    Ok(ticks as f64 / clock_ticks_per_sec() as f64)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in MiB.
pub fn status_mib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("/proc/{pid}/status has no {field}"))?;
    Ok(kb as f64 / 1024.0)
}

/// The one-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The CPU model, as `/proc/cpuinfo` names it.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The cores this process (and so the server it starts) may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_and_holds_some_memory() {
        let pid = std::process::id();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_secs(pid).is_ok_and(|s| s >= 0.0));
        let rss = status_mib(pid, "VmRSS").unwrap_or(0.0);
        let hwm = status_mib(pid, "VmHWM").unwrap_or(0.0);
        assert!(rss > 0.0 && hwm >= rss, "rss {rss} hwm {hwm}");
        assert!(status_mib(pid, "NoSuchField").is_err());
    }
}
