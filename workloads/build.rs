//! Embeds every preset scenario (`scenarios/*.toml`) in the crate, so that `stratbench run
//! quick` works from any directory and a preset's name is simply its file stem.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

fn main() {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets this")).join("scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut presets: Vec<_> = fs::read_dir(&dir)
        .expect("workloads/scenarios exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    presets.sort();
    let mut code = String::from(
        "/// Preset scenarios: (name, TOML text), sorted by name.\npub static PRESETS: &[(&str, &str)] = &[\n",
    );
    for path in presets {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("UTF-8 file name");
        writeln!(code, "    ({stem:?}, include_str!({:?})),", path.display().to_string()).expect("write to String");
    }
    code.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets this")).join("presets.rs");
    fs::write(out, code).expect("write presets.rs");
}
