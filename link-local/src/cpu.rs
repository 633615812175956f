//! A clear error, instead of a crash on an illegal instruction, when llama.cpp was compiled for
//! newer x86 instructions than this CPU has.
//!
//! How llama-cpp-sys-2 picks CPU features: with `-C target-cpu=native` (or any tuned
//! `target-cpu`) in the Rust flags it builds ggml for the same CPU; otherwise it turns
//! `GGML_NATIVE` off, and ggml's CMake then enables SSE4.2, AVX, AVX2, FMA, F16C and BMI2 by
//! default (x86-64-v3), unless the build environment sets e.g. `GGML_AVX2=OFF`. That default is
//! fast on every x86 CPU since about 2013, but such a build cannot run on older ones.

use link_core::{Error, Result};

/// Fails when this build's ggml needs x86-64-v3 instructions that the CPU lacks.
pub(crate) fn check() -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    {
        // A tuned Rust target means ggml was built for the same CPU features (see above).
        let tuned = cfg!(target_feature = "sse4.2");
        let v3_disabled = matches!(
            option_env!("GGML_AVX2"),
            Some("OFF" | "off" | "0" | "FALSE" | "false")
        );
        let has_v3 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c");
        if !tuned && !v3_disabled && !has_v3 {
            return Err(Error::Config {
                message: "this build of llama.cpp uses AVX2/FMA/F16C, which this CPU lacks; \
                          rebuild with RUSTFLAGS=\"-C target-cpu=native\" (or with GGML_AVX2=OFF \
                          GGML_FMA=OFF GGML_F16C=OFF GGML_BMI2=OFF in the environment)"
                    .into(),
            });
        }
    }
    Ok(())
}
