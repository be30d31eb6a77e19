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

/// The numeric fields of `/proc/<pid>/stat` from field 3 (state) on: index
/// `i` is field `i + 3` of proc(5), so ppid (4) is 1, utime (14) 11, stime (15)
/// 12, cutime (16) 13 and cstime (17) 14. The state letter parses as 0.
fn stat_fields(pid: u32) -> anyhow::Result<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("/proc/{pid}/stat: no command name"))?;
    Ok(rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect())
}

/// Field `i` of [`stat_fields`], or an error naming it.
fn field(fields: &[u64], pid: u32, i: usize) -> anyhow::Result<u64> {
    fields
        .get(i)
        .copied()
        .ok_or_else(|| anyhow!("/proc/{pid}/stat: field {} missing", i + 3))
}

const PPID: usize = 1;
const UTIME: usize = 11;
const STIME: usize = 12;
const CUTIME: usize = 13;
const CSTIME: usize = 14;

/// User plus system CPU time the process has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let fields = stat_fields(pid)?;
    let ticks = field(&fields, pid, UTIME)? + field(&fields, pid, STIME)?;
    Ok(ticks as f64 / clock_ticks_per_sec() as f64)
}

/// CPU time, in seconds, of the process `root` and all its children: its own
/// user and system time, what its children that it has reaped used (`cutime`,
/// `cstime`: a child that exits adds its time there), and the time of every
/// child still running (a process whose parent is `root`, with their own
/// reaped children). Two readings bracket what the tree used in between, even
/// when children come and go (a PostgreSQL server and its backends).
///
/// The children are read before `root`: a child that exits between the two
/// reads is counted twice in that reading, never lost; with long-lived
/// children (pooled connections) that is rare and a few ticks.
pub fn tree_cpu_secs(root: u32) -> anyhow::Result<f64> {
    let mut ticks = 0u64;
    for entry in std::fs::read_dir("/proc")? {
        let Some(pid) = entry?
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        // A process may end while the folder is read: skip what cannot be read.
        let Ok(fields) = stat_fields(pid) else {
            continue;
        };
        if fields.get(PPID) == Some(&u64::from(root)) {
            ticks += [UTIME, STIME, CUTIME, CSTIME]
                .iter()
                .filter_map(|&i| fields.get(i))
                .sum::<u64>();
        }
    }
    let own = stat_fields(root)?;
    for i in [UTIME, STIME, CUTIME, CSTIME] {
        ticks += field(&own, root, i)?;
    }
    Ok(ticks as f64 / clock_ticks_per_sec() as f64)
}

/// The parent of process `pid`.
pub fn ppid(pid: u32) -> anyhow::Result<u32> {
    let fields = stat_fields(pid)?;
    Ok(u32::try_from(field(&fields, pid, PPID)?)?)
}

/// The command name of process `pid` (`/proc/<pid>/comm`).
pub fn command_name(pid: u32) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .with_context(|| format!("/proc/{pid}/comm"))?
        .trim()
        .to_owned())
}

/// Whether `pid` is a live process: there, and not a zombie (an exited
/// process its parent has not reaped yet; in a container whose first process
/// reaps nothing, an exited daemon stays one).
#[cfg(test)]
pub fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // The state follows the command name, which is in parentheses.
            let (_, rest) = stat.rsplit_once(')')?;
            rest.split_whitespace()
                .next()
                .map(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
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

    #[test]
    fn a_process_tree_counts_running_children_and_reaped_ones() {
        let me = std::process::id();
        let before = tree_cpu_secs(me).unwrap_or(f64::NAN);
        let mut child = match Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!("cannot start sh: {e}"),
        };
        assert_eq!(ppid(child.id()).ok(), Some(me));
        assert_eq!(command_name(child.id()).ok().as_deref(), Some("sh"));
        // Until the child has used a measurable share of a core.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut child_cpu = 0.0;
        while child_cpu < 0.1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            child_cpu = cpu_secs(child.id()).unwrap_or(0.0);
        }
        assert!(child_cpu >= 0.1, "the busy child used only {child_cpu} s");
        let running = tree_cpu_secs(me).unwrap_or(f64::NAN);
        let last = cpu_secs(child.id()).unwrap_or(f64::NAN);
        assert!(
            running - before >= child_cpu - 0.011,
            "{before} -> {running}, child {child_cpu}"
        );
        let _ = child.kill();
        let _ = child.wait();
        let reaped = tree_cpu_secs(me).unwrap_or(f64::NAN);
        assert!(
            reaped - before >= last - 0.011,
            "{before} -> {reaped}, child {last}"
        );
        assert!(tree_cpu_secs(u32::MAX).is_err());
    }
}
