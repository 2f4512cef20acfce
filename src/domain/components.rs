//! Named component sets for CI-artifact installs, as upstream's
//! `install_rocm_from_artifacts.py` flags (therock-facts.md 5e): each name adds `{name}_lib` for
//! every artifact it stands for (and `{name}_test` with `--tests`) plus its extras; `base` is the
//! base set, which every other name brings along too.

use std::collections::BTreeSet;

/// The base set: what running anything needs.
pub const BASE: &[&str] = &[
    "core-hipinfo_run",
    "core-runtime_run",
    "core-runtime_lib",
    "sysdeps_lib",
    "base_run",
    "base_lib",
    "amd-llvm_run",
    "amd-llvm_lib",
    "core-hip_lib",
    "core-hip_dev",
    "core-ocl_lib",
    "core-ocl_dev",
    "rocprofiler-sdk_lib",
    "host-suite-sparse_lib",
    "rocjitsu-hotswap_lib",
    "core-amdsmi_run",
    "core-amdsmi_lib",
    "core-kpack_lib",
];

/// A component name (upstream's flag without its `--`: `blas` is `--blas`), the artifacts that
/// get `_lib` (and `_test`), and extra `{artifact}_{component}` pairs taken as they are.
pub struct Set {
    pub name: &'static str,
    pub artifacts: &'static [&'static str],
    pub extras: &'static [&'static str],
}

/// Upstream's table (`build_tools/install_rocm_from_artifacts.py`, `retrieve_artifacts_by_run_id`).
pub const SETS: &[Set] = &[
    Set { name: "aqlprofile", artifacts: &["aqlprofile-tests"], extras: &[] },
    Set { name: "blas", artifacts: &["blas"], extras: &[] },
    Set {
        name: "debug-tools",

        artifacts: &["amd-dbgapi", "rocgdb", "rocr-debug-agent", "rocr-debug-agent-tests", "gmp", "mpfr", "expat", "ncurses"],
        extras: &["rocgdb_run"],
    },
    Set { name: "fft", artifacts: &["fft", "fftw3"], extras: &[] },
    Set { name: "fusilliprovider", artifacts: &["fusilliprovider"], extras: &[] },
    Set { name: "hipblasltprovider", artifacts: &["hipblasltprovider"], extras: &[] },
    Set { name: "hipdnn", artifacts: &["hipdnn"], extras: &[] },
    Set { name: "hipdnn-samples", artifacts: &["hipdnn-samples"], extras: &[] },
    Set { name: "libhipcxx", artifacts: &["libhipcxx"], extras: &["amd-llvm_dev", "amd-llvm_lib", "base_dev"] },
    Set { name: "miopen", artifacts: &["miopen"], extras: &["miopen_run", "rand_dev"] },
    Set { name: "miopenprovider", artifacts: &["miopenprovider"], extras: &[] },
    Set { name: "prim", artifacts: &["prim"], extras: &[] },
    Set { name: "rand", artifacts: &["rand"], extras: &[] },
    Set { name: "rccl", artifacts: &["rccl"], extras: &[] },
    Set { name: "rocprofiler-compute", artifacts: &["rocprofiler-compute"], extras: &[] },
    Set { name: "rocprofiler-sdk", artifacts: &["rocprofiler-sdk"], extras: &["rocprofiler-sdk_run"] },
    Set { name: "rocprofiler-systems", artifacts: &["rocprofiler-systems"], extras: &["rocprofiler-systems_run"] },
    Set { name: "rocwmma", artifacts: &["rocwmma"], extras: &[] },
];

/// Every valid name, `base` first.
pub fn names() -> Vec<&'static str> {
    std::iter::once("base").chain(SETS.iter().map(|s| s.name)).collect()
}

/// The `{artifact}_{component}` pairs the names stand for (the base set always among them);
/// an unknown name is an error listing the valid ones.
pub fn pairs(names_given: &[String], tests: bool) -> Result<BTreeSet<String>, String> {
    let mut out: BTreeSet<String> = BASE.iter().map(|s| s.to_string()).collect();
    for n in names_given {
        let n = n.trim().to_ascii_lowercase();
        if n == "base" {
            continue;
        }
        let Some(set) = SETS.iter().find(|s| s.name == n) else {
            return Err(format!("unknown component set '{n}': expected one of {}", names().join(", ")));
        };
        for a in set.artifacts {
            out.insert(format!("{a}_lib"));
            if tests {
                out.insert(format!("{a}_test"));
            }
        }
        out.extend(set.extras.iter().map(|e| e.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn base_is_the_base_set_alone() {
        let p = pairs(&given(&["base"]), true).unwrap();
        assert_eq!(p.len(), BASE.len());
        assert!(p.contains("core-kpack_lib") && p.contains("amd-llvm_run"));
    }

    #[test]
    fn each_name_adds_its_lib_its_extras_and_with_tests_its_test_components() {
        let p = pairs(&given(&["blas", "miopen"]), false).unwrap();
        assert!(p.contains("blas_lib") && p.contains("miopen_lib") && p.contains("miopen_run") && p.contains("rand_dev"));
        assert!(p.contains("base_lib"), "every set brings the base set");
        assert!(!p.contains("blas_test"));
        let t = pairs(&given(&["fft"]), true).unwrap();
        assert!(t.contains("fft_test") && t.contains("fftw3_lib") && t.contains("fftw3_test"));
        assert!(!t.contains("base_test"), "--tests adds the named sets' tests, not the base set's");
    }

    #[test]
    fn the_command_reference_maps_every_upstream_flag_to_its_name() {
        let readme = include_str!("../../docs/commands.md");
        for s in SETS {
            assert!(readme.contains(&format!("| `--{}` | `{}` |", s.name, s.name)), "docs/commands.md lacks --{}", s.name);
        }
        assert!(readme.contains("| `--base-only` | `base` |"));
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let e = pairs(&given(&["blas", "lapack"]), false).unwrap_err();
        assert!(e.contains("'lapack'") && e.contains("base, aqlprofile, blas"), "{e}");
    }
}
