// Links the placement shim (place_ffi.c over chanbench's hwloc placement
// code), which the CMake target chanpeers_rust builds and names in
// CHANPEERS_LINK ("dir:dir|lib,lib"), and passes the library versions that
// build.sh looked up (CHANPEERS_LIBRARIES) into the program.
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=CHANPEERS_LINK");
    println!("cargo:rerun-if-env-changed=CHANPEERS_LIBRARIES");
    let link = env::var("CHANPEERS_LINK").unwrap_or_else(|_| {
        panic!("CHANPEERS_LINK is not set: build with `cmake --build <dir> --target chanpeers_rust`")
    });
    let (dirs, libs) = link.split_once('|').expect("CHANPEERS_LINK: dirs|libs");
    for d in dirs.split(':').filter(|d| !d.is_empty()) {
        println!("cargo:rustc-link-search=native={d}");
    }
    for l in libs.split(',').filter(|l| !l.is_empty()) {
        println!("cargo:rustc-link-lib={l}");
    }
    let libraries = env::var("CHANPEERS_LIBRARIES").unwrap_or_default();
    println!("cargo:rustc-env=CHANPEERS_LIBRARIES={libraries}");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=CHANPEERS_RUSTC={version}");
}
