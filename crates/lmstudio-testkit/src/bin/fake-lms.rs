//! `fake-lms`: a stand-in for LM Studio's `lms` CLI that drives the testkit's emulator.
//! Usage: `fake-lms --server http://127.0.0.1:PORT <lms args...>`.

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let code = lmstudio_testkit::fake_lms::run(&args, &mut stdout.lock(), &mut stderr.lock());
    std::process::exit(code);
}
