//! `lmstudio-emulator`: runs the testkit's LM Studio emulator until killed, for manual checks.
//! Usage: `lmstudio-emulator [--port N] [--profile 0.3|0.4] [--jit on|off] [--token T]
//! [--download-speed BYTES_PER_SEC] [--load-delay-ms N] [--downloaded KEY]... [--loaded KEY]...`

use std::time::Duration;

use lmstudio_testkit::{CatalogModel, Emulator, Profile};

fn main() {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => {}
        Err(message) => {
            eprintln!("Error: {message}");
            std::process::exit(1);
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut builder = Emulator::builder();
    let mut extra = Vec::new();
    let mut iter = args.into_iter();
    while let Some(flag) = iter.next() {
        let mut value = || iter.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {text}"))
        };
        builder = match flag.as_str() {
            "--port" => {
                builder.port(u16::try_from(number(value()?)?).map_err(|_| "--port: too large")?)
            }
            "--profile" => match value()?.as_str() {
                "0.3" => builder.profile(Profile::V0_3),
                "0.4" => builder.profile(Profile::V0_4),
                other => return Err(format!("--profile: expected 0.3 or 0.4, got {other}")),
            },
            "--jit" => builder.jit(value()? != "off"),
            "--token" => builder.auth_token(Some(value()?)),
            "--download-speed" => builder.download_speed(number(value()?)?),
            "--load-delay-ms" => builder.load_delay(Duration::from_millis(number(value()?)?)),
            "--downloaded" => {
                extra.push(CatalogModel::llm(value()?).downloaded(true));
                builder
            }
            "--loaded" => {
                extra.push(CatalogModel::llm(value()?).loaded(true));
                builder
            }
            other => return Err(format!("unknown option {other}")),
        };
    }
    if !extra.is_empty() {
        builder = builder
            .model(CatalogModel::gpt_oss_20b())
            .model(CatalogModel::nomic_embed())
            .models(extra);
    }
    let emulator = builder.start_threaded().map_err(|e| e.to_string())?;
    println!(
        "LM Studio emulator ({:?}) listening on {}",
        emulator.profile(),
        emulator.url()
    );
    loop {
        std::thread::park();
    }
}
