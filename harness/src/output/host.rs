//! The machine a run was measured on, so a row can be reproduced or discounted: CPU model,
//! cores, memory and OS through sysinfo, and the git commit of the checkout the command ran
//! in (if any).

use serde::Serialize;
use std::process::Command;
use sysinfo::System;

/// Host and build metadata, written to `host.json` and into the host columns of each row.
#[derive(Clone, Debug, Serialize, Default)]
pub struct HostInfo {
    pub hostname: Option<String>,
    pub os: Option<String>,
    pub kernel: Option<String>,
    pub cpu_model: Option<String>,
    pub cpu_cores_logical: usize,
    pub cpu_cores_physical: Option<usize>,
    pub memory_bytes: u64,
    pub stratbench_version: &'static str,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub command_line: Vec<String>,
    pub started_at: String,
    /// `--driver-id`: which of several driver machines wrote this run directory.
    pub driver_id: Option<String>,
}

impl HostInfo {
    /// Reads the host now.
    pub fn collect() -> Self {
        let mut system = System::new().ok();
        if let Some(system) = system.as_mut() {
            system.refresh_cpu_all();
            system.refresh_memory();
        }
        let cpus = system.as_ref().map(|s| s.cpus());
        let cpu_model =
            cpus.and_then(|c| c.first()).map(|cpu| cpu.brand().trim().to_string()).filter(|b| !b.is_empty());
        HostInfo {
            hostname: System::host_name().ok(),
            os: System::long_os_version().ok(),
            kernel: System::kernel_version().ok(),
            cpu_model,
            cpu_cores_logical: cpus.map_or(0, |c| c.len()).max(1),
            cpu_cores_physical: System::physical_core_count().ok(),
            memory_bytes: system.as_ref().map_or(0, |s| s.total_memory()),
            stratbench_version: env!("CARGO_PKG_VERSION"),
            git_commit: git(&["rev-parse", "HEAD"]),
            git_dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
            command_line: std::env::args().collect(),
            started_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            driver_id: None,
        }
    }

    /// A one-line OS description for CSV rows.
    pub fn os_line(&self) -> Option<String> {
        match (&self.os, &self.kernel) {
            (Some(os), Some(kernel)) => Some(format!("{os} (kernel {kernel})")),
            (os, _) => os.clone(),
        }
    }
}

/// Output of a git command in the current directory, if git exists and it is a checkout.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}
