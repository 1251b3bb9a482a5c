//! Facts about this machine and its processes, read from `/proc`: CPU model, cores, memory,
//! a process's resident memory, and the open-file limit.

use std::fs;

/// What the output header says about the machine.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub mem_total_kib: u64,
}

impl Machine {
    pub fn read() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or_else(|_| cpuinfo.matches("\nprocessor").count().max(1)),
            mem_total_kib: kib_field(&meminfo, "MemTotal:").unwrap_or(0),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} · {} cores · {:.1} GiB RAM",
            self.cpu_model,
            self.cores,
            self.mem_total_kib as f64 / 1024.0 / 1024.0
        )
    }
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Name:   1234 kB` field of `/proc/meminfo` or `/proc/<pid>/status`, in KiB.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))?
        .trim_start_matches(name)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` prints them: anything else
/// running on the machine shows here.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Resident memory (`VmRSS`) of a process in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    kib_field(&status, "VmRSS:")
}

/// Raises this process's open-file soft limit to at least `wanted` (up to the hard limit);
/// returns the limit now in force. Child processes (the server) inherit it.
pub fn raise_nofile(wanted: u64) -> anyhow::Result<u64> {
    let now = rlimit::increase_nofile_limit(wanted)?;
    Ok(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_model_and_memory_fields() {
        let cpuinfo =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Some CPU @ 2.00GHz\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("Some CPU @ 2.00GHz"));
        let status = "Name:\thelpdesk\nVmPeak:\t  90000 kB\nVmRSS:\t   51234 kB\n";
        assert_eq!(kib_field(status, "VmRSS:"), Some(51234));
        assert_eq!(kib_field(status, "VmSwap:"), None);
    }

    #[test]
    fn own_rss_is_readable() {
        assert!(rss_kib(std::process::id()).is_some_and(|k| k > 0));
    }
}
