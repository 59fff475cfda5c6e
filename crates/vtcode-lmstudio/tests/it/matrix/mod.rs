//! The facade end to end against the LM Studio emulator in every configuration: profile 0.4
//! (REST download, `/api/v1` load) and 0.3 (`lms get` / `lms load` through the testkit's fake
//! `lms`), each with JIT loading on and off. Every check is its own test per configuration:
//! `matrix::<check>::v0_4_jit_on`, `..::v0_4_jit_off`, `..::v0_3_jit_on`, `..::v0_3_jit_off`
//! (`auth` only on 0.4, which has tokens). Each test starts its own emulator on a fresh port.
//!
//! `cargo xtask integration` runs exactly these (`cargo test -p vtcode-lmstudio --test it
//! matrix`) and prints the pass counts.

mod checks;
mod scenario;

/// The outcome of one check: `Err` carries the reason it failed.
type CheckResult = Result<(), String>;

/// Fails the check with `message` unless `condition` holds.
fn ensure(condition: bool, message: impl FnOnce() -> String) -> CheckResult {
    if condition { Ok(()) } else { Err(message()) }
}

/// One module per check, one test per configuration.
macro_rules! matrix {
    (@test $check:ident, $name:ident, $profile:ident, $jit:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> super::CheckResult {
            super::checks::$check(lmstudio_testkit::Profile::$profile, $jit).await
        }
    };
    ($($check:ident),* $(,)?) => {
        $(
            mod $check {
                matrix!(@test $check, v0_4_jit_on, V0_4, true);
                matrix!(@test $check, v0_4_jit_off, V0_4, false);
                matrix!(@test $check, v0_3_jit_on, V0_3, true);
                matrix!(@test $check, v0_3_jit_off, V0_3, false);
            }
        )*
    };
}

matrix! {
    detects,
    cold,
    warm,
    unloaded,
    concurrent,
    background,
    listing,
    chat,
    completions_embeddings,
    status_unload,
    failed_download,
    stream_faults,
    no_confusion,
}

/// Tokens exist from LM Studio 0.4 on: `auth` runs on that profile only.
mod auth {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn v0_4_jit_on() -> super::CheckResult {
        super::checks::auth(true).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn v0_4_jit_off() -> super::CheckResult {
        super::checks::auth(false).await
    }
}
