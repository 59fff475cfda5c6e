//! Hand-rolled argument parsing for the fake `lms` (flags with and without values, aliases,
//! `--flag=value`), close to how commander.js reads them.

use std::collections::HashMap;

/// Parsed subcommand arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Positional arguments in order.
    pub(crate) positionals: Vec<String>,
    /// Flags by long name (`yes`, `context-length`); `None` for boolean flags.
    pub(crate) flags: HashMap<String, Option<String>>,
}

impl Parsed {
    /// Whether a boolean flag was given.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    /// A flag's value.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.flags.get(name).and_then(|v| v.as_deref())
    }
}

/// The flags every command accepts and ignores (`--log-level`, `--host`, ...).
const GLOBAL_VALUED: [&str; 3] = ["log-level", "host", "port"];
const GLOBAL_BOOLEAN: [&str; 2] = ["quiet", "verbose"];

fn long_name(arg: &str, aliases: &[(&str, &str)]) -> Option<String> {
    if let Some(long) = arg.strip_prefix("--") {
        return Some(long.to_owned());
    }
    aliases
        .iter()
        .find(|(short, _)| *short == arg)
        .map(|(_, long)| (*long).to_owned())
}

/// Parses `args` given which flags take a value, which are boolean, and short aliases
/// (`("-y", "yes")`). Unknown flags and missing values are errors (`lms` exits 1 on them).
pub(crate) fn parse(
    args: &[String],
    valued: &[&str],
    boolean: &[&str],
    aliases: &[(&str, &str)],
) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            parsed.positionals.extend(iter.by_ref().cloned());
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            parsed.positionals.push(arg.clone());
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let Some(name) = long_name(flag, aliases) else {
            return Err(format!("unknown option '{flag}'"));
        };
        if valued.contains(&name.as_str()) || GLOBAL_VALUED.contains(&name.as_str()) {
            let value = match inline {
                Some(value) => value,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| format!("option '{flag}' argument missing"))?,
            };
            parsed.flags.insert(name, Some(value));
        } else if boolean.contains(&name.as_str()) || GLOBAL_BOOLEAN.contains(&name.as_str()) {
            parsed.flags.insert(name, None);
        } else {
            return Err(format!("unknown option '{flag}'"));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_values_and_aliases_parse() {
        let parsed = parse(
            &strings(&[
                "key",
                "-c",
                "8192",
                "--ttl=60",
                "-y",
                "--log-level",
                "debug",
            ]),
            &["context-length", "ttl"],
            &["yes"],
            &[("-c", "context-length"), ("-y", "yes")],
        )
        .unwrap();
        assert_eq!(parsed.positionals, vec!["key".to_owned()]);
        assert_eq!(parsed.value("context-length"), Some("8192"));
        assert_eq!(parsed.value("ttl"), Some("60"));
        assert!(parsed.has("yes"));
    }

    #[test]
    fn unknown_flags_and_missing_values_are_errors() {
        assert!(parse(&strings(&["--nope"]), &[], &[], &[]).is_err());
        assert!(parse(&strings(&["--ttl"]), &["ttl"], &[], &[]).is_err());
    }
}
