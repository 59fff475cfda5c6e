//! `cargo xtask faults`: checks the fault catalogue (`docs/faults.md`).
//!
//! Every table row whose first cell is an id (`S01`, `L07`, ...) is one injected fault: `S` ids
//! are server faults, `L` ids `lms` faults. Each row names at least one test as a backticked
//! `path/to/file.rs::test_fn` (relative to the repository root). The task checks that every
//! named file exists and defines `fn test_fn` (`async fn`, `pub fn` ... count too), that no id
//! is used twice and that the catalogue keeps at least [`MIN_SERVER`] server and [`MIN_LMS`]
//! `lms` cases. Then (unless `--no-run`) it runs every test target those tests live in and
//! prints how many cases pass; a case passes when all its tests ran and passed.

mod runner;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::time::Instant;

use runner::Outcome;

/// The catalogue, relative to the repository root.
const CATALOGUE: &str = "docs/faults.md";
/// The fewest server faults the catalogue may list.
const MIN_SERVER: usize = 40;
/// The fewest `lms` faults the catalogue may list.
const MIN_LMS: usize = 10;

const USAGE: &str = "usage: cargo xtask faults [--no-run]\n\
                     --no-run  only check that every named test exists (do not run them)";

/// Runs the task.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let run_tests = match args {
        [] => true,
        [flag] if flag == "--no-run" => false,
        [flag, ..] if flag == "-h" || flag == "--help" => return Err(USAGE.to_owned()),
        _ => return Err(format!("unexpected arguments {args:?}\n{USAGE}")),
    };
    let root = crate::ci::repo_root();
    let path = root.join(CATALOGUE);
    let text = fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let catalogue = parse(&text);
    let summary = check(&catalogue, &|file| fs::read_to_string(root.join(file)).ok());
    println!(
        "faults: {}x server, {}x lms cases, {}",
        summary.server,
        summary.lms,
        if summary.problems.is_empty() {
            format!("all {} tests found", summary.tests)
        } else {
            format!("{} tests referenced", summary.tests)
        }
    );
    if !summary.problems.is_empty() {
        return Err(problem_list(&summary.problems));
    }
    if !run_tests {
        return Ok(());
    }
    let started = Instant::now();
    let tests: BTreeSet<&TestRef> = catalogue.cases.iter().flat_map(|c| &c.tests).collect();
    let tests: Vec<&TestRef> = tests.into_iter().collect();
    // The facade's `lms` cases run the testkit's fake `lms`: build it first.
    crate::integration::build_fake_lms()?;
    let outcomes = runner::run_tests(&root, &tests)?;
    let mut problems = Vec::new();
    let mut passing = HashMap::new();
    for case in &catalogue.cases {
        let mut ok = true;
        for test in &case.tests {
            let outcome = outcomes.get(test).copied().unwrap_or(Outcome::NotRun);
            if outcome != Outcome::Passed {
                ok = false;
                problems.push(format!(
                    "{} (line {}): {}::{} {}",
                    case.id,
                    case.line,
                    test.path,
                    test.name,
                    match outcome {
                        Outcome::Failed => "failed",
                        Outcome::Ignored => "is ignored",
                        _ => "did not run",
                    }
                ));
            }
        }
        if ok {
            *passing.entry(case.kind).or_insert(0usize) += 1;
        }
    }
    let pass = |kind| passing.get(&kind).copied().unwrap_or(0);
    println!(
        "faults: server {}/{} cases pass, lms {}/{} cases pass ({} tests run in {:.1} s)",
        pass(Kind::Server),
        summary.server,
        pass(Kind::Lms),
        summary.lms,
        tests.len(),
        started.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problem_list(&problems))
    }
}

fn problem_list(problems: &[String]) -> String {
    let mut message = format!("{CATALOGUE} has {} problem(s):", problems.len());
    for problem in problems {
        message.push_str("\n  - ");
        message.push_str(problem);
    }
    message
}

/// Whose misbehaviour a case is, from its id's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// `S..`: the server (HTTP, transport, SSE, emulator).
    Server,
    /// `L..`: the `lms` CLI.
    Lms,
}

/// A test named by a row: `path::name`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct TestRef {
    /// The file, relative to the repository root.
    path: String,
    /// The test function's name.
    name: String,
}

/// One row of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Case {
    id: String,
    kind: Kind,
    /// 1-based line number in the catalogue.
    line: usize,
    tests: Vec<TestRef>,
}

/// The parsed catalogue: its cases, and the rows that could not be read.
#[derive(Debug, Default)]
struct Catalogue {
    cases: Vec<Case>,
    problems: Vec<String>,
}

/// What [`check`] found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    server: usize,
    lms: usize,
    /// Distinct tests referenced.
    tests: usize,
    problems: Vec<String>,
}

/// Reads every table row of the Markdown `text`. Header rows (followed by a `|---|` line) and
/// separator rows are skipped; every other row must start with an id and name a test.
fn parse(text: &str) -> Catalogue {
    let lines: Vec<&str> = text.lines().collect();
    let mut catalogue = Catalogue::default();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let Some(cells) = table_cells(line) else {
            continue;
        };
        let next_is_separator = lines
            .get(index + 1)
            .and_then(|next| table_cells(next))
            .is_some_and(|next| is_separator(&next));
        if is_separator(&cells) || next_is_separator {
            continue;
        }
        let first = cells.first().map(|c| c.trim()).unwrap_or_default();
        let Some(kind) = id_kind(first) else {
            catalogue.problems.push(format!(
                "line {number}: a table row must start with an id like S01 or L01, found `{first}`"
            ));
            continue;
        };
        let (tests, bad) = test_refs(line);
        for span in bad {
            catalogue.problems.push(format!(
                "{first} (line {number}): `{span}` is not a test reference `path/to/file.rs::test_fn`"
            ));
        }
        if tests.is_empty() {
            catalogue.problems.push(format!(
                "{first} (line {number}): names no test (`path/to/file.rs::test_fn`)"
            ));
        }
        catalogue.cases.push(Case {
            id: first.to_owned(),
            kind,
            line: number,
            tests,
        });
    }
    catalogue
}

/// The cells of a Markdown table row (`| a | b |`), or `None` for any other line. `\|` does
/// not split a cell.
fn table_cells(line: &str) -> Option<Vec<String>> {
    let row = line.trim();
    let inner = row.strip_prefix('|')?;
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cell.push('|'),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell)),
            other => cell.push(other),
        }
    }
    // Text after the last `|` is a cell only when the row has no closing pipe.
    if !cell.trim().is_empty() {
        cells.push(cell);
    }
    Some(cells)
}

/// `|---|:--:|` and the like.
fn is_separator(cells: &[String]) -> bool {
    !cells.is_empty()
        && cells.iter().all(|cell| {
            let cell = cell.trim();
            cell.contains('-') && cell.chars().all(|c| matches!(c, '-' | ':'))
        })
}

/// `S` + digits is a server case, `L` + digits an `lms` case.
fn id_kind(id: &str) -> Option<Kind> {
    let kind = match id.chars().next()? {
        'S' => Kind::Server,
        'L' => Kind::Lms,
        _ => return None,
    };
    let digits = &id[1..];
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(kind)
}

/// The test references in a row: backticked `path.rs::name` spans. Also returns the spans
/// that look like a reference (a `.rs` path before `::`) but are malformed.
fn test_refs(row: &str) -> (Vec<TestRef>, Vec<String>) {
    let mut refs = Vec::new();
    let mut bad = Vec::new();
    // Code spans are the odd-numbered pieces between backticks.
    for span in row.split('`').skip(1).step_by(2) {
        let Some((path, rest)) = span.split_once("::") else {
            continue;
        };
        if !path.ends_with(".rs") {
            continue;
        }
        let name = rest.rsplit("::").next().unwrap_or(rest);
        let path_ok = !path.starts_with('/')
            && !path.contains(char::is_whitespace)
            && !path.split('/').any(|part| part == "..");
        if path_ok && is_identifier(name) {
            refs.push(TestRef {
                path: path.to_owned(),
                name: name.to_owned(),
            });
        } else {
            bad.push(span.to_owned());
        }
    }
    (refs, bad)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Whether `source` defines `fn name` (any qualifiers: `async fn`, `pub(crate) fn`, ...).
fn defines_fn(source: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    source.match_indices(&needle).any(|(at, _)| {
        let before_ok = source[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let after_ok = source[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c == '(' || c == '<' || c.is_whitespace());
        before_ok && after_ok
    })
}

/// Checks the parsed catalogue: references resolve (`read` gives a file's text by its
/// repository-relative path), ids are unique, and there are enough cases of each kind.
fn check(catalogue: &Catalogue, read: &dyn Fn(&str) -> Option<String>) -> Summary {
    let mut problems = catalogue.problems.clone();
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for case in &catalogue.cases {
        if let Some(line) = first_line.get(case.id.as_str()) {
            problems.push(format!(
                "{} (line {}): duplicate id, first used on line {line}",
                case.id, case.line
            ));
        } else {
            first_line.insert(&case.id, case.line);
        }
    }
    let mut sources: HashMap<&str, Option<String>> = HashMap::new();
    let mut tests = BTreeSet::new();
    for case in &catalogue.cases {
        for test in &case.tests {
            tests.insert(test);
            let source = sources
                .entry(test.path.as_str())
                .or_insert_with(|| read(&test.path));
            match source {
                None => problems.push(format!(
                    "{} (line {}): {} does not exist",
                    case.id, case.line, test.path
                )),
                Some(text) if !defines_fn(text, &test.name) => problems.push(format!(
                    "{} (line {}): {} has no `fn {}`",
                    case.id, case.line, test.path, test.name
                )),
                Some(_) => {}
            }
        }
    }
    let count = |kind| catalogue.cases.iter().filter(|c| c.kind == kind).count();
    let (server, lms) = (count(Kind::Server), count(Kind::Lms));
    if server < MIN_SERVER {
        problems.push(format!(
            "only {server} server faults (S..): at least {MIN_SERVER} are required"
        ));
    }
    if lms < MIN_LMS {
        problems.push(format!(
            "only {lms} lms faults (L..): at least {MIN_LMS} are required"
        ));
    }
    Summary {
        server,
        lms,
        tests: tests.len(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# Faults

Intro with a `not/a/ref.rs` and `Error::Transport`.

| Id | Fault | Error | Test |
|---|---|---|---|
| S01 | refused | `Error::ConnectRefused`, `io::ErrorKind::ConnectionRefused` | `crates/t/tests/a.rs::refused` |
| S02 | pipe \\| inside | `Error::X` | `crates/t/tests/a.rs::piped` and `crates/t/src/b.rs::tests::unit` |

| Id | Fault | Error | Test |
|:--|:-:|--:|---|
| L01 | not found | `LmsError::NotFound` | `crates/l/tests/c.rs::not_found` |
";

    fn refs(case: &Case) -> Vec<(&str, &str)> {
        case.tests
            .iter()
            .map(|t| (t.path.as_str(), t.name.as_str()))
            .collect()
    }

    #[test]
    fn parses_rows_ids_kinds_and_references() {
        let catalogue = parse(SAMPLE);
        assert!(catalogue.problems.is_empty(), "{:?}", catalogue.problems);
        let ids: Vec<(&str, Kind, usize)> = catalogue
            .cases
            .iter()
            .map(|c| (c.id.as_str(), c.kind, c.line))
            .collect();
        assert_eq!(
            ids,
            [
                ("S01", Kind::Server, 7),
                ("S02", Kind::Server, 8),
                ("L01", Kind::Lms, 12)
            ]
        );
        assert_eq!(
            refs(&catalogue.cases[0]),
            [("crates/t/tests/a.rs", "refused")]
        );
        assert_eq!(
            refs(&catalogue.cases[1]),
            [
                ("crates/t/tests/a.rs", "piped"),
                ("crates/t/src/b.rs", "unit")
            ]
        );
    }

    #[test]
    fn escaped_pipes_stay_in_their_cell() {
        let cells = table_cells("| S02 | a \\| b | c |").unwrap();
        assert_eq!(cells, [" S02 ", " a | b ", " c "]);
        assert_eq!(table_cells("not a row"), None);
        assert_eq!(table_cells("| a | b").unwrap(), [" a ", " b"]);
    }

    #[test]
    fn ids_must_be_s_or_l_then_digits() {
        assert_eq!(id_kind("S01"), Some(Kind::Server));
        assert_eq!(id_kind("L123"), Some(Kind::Lms));
        for bad in ["", "S", "X01", "S01a", "s01", "Id", "L-1"] {
            assert_eq!(id_kind(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rows_without_an_id_or_a_test_are_problems() {
        let text = "\
| Id | Fault | Test |
|---|---|---|
| X9 | wrong id | `a.rs::t` |
| S01 | no test | `Error::Transport` |
| S02 | bad ref | `/abs/a.rs::t` and `a.rs::not an ident` |
";
        let catalogue = parse(text);
        assert_eq!(catalogue.cases.len(), 2);
        let problems = catalogue.problems.join("\n");
        assert!(
            problems.contains("line 3: a table row must start with an id"),
            "{problems}"
        );
        assert!(
            problems.contains("S01 (line 4): names no test"),
            "{problems}"
        );
        assert!(
            problems.contains("`/abs/a.rs::t` is not a test reference"),
            "{problems}"
        );
        assert!(
            problems.contains("`a.rs::not an ident` is not a test reference"),
            "{problems}"
        );
    }

    #[test]
    fn finds_fn_definitions_with_any_qualifiers() {
        let source = "#[tokio::test]\nasync fn stalls() {}\n\
                      pub(crate) fn helper<T>(t: T) {}\n\
                      fn refused_twice () {}\n// calls: stalls_more()\n";
        assert!(defines_fn(source, "stalls"));
        assert!(defines_fn(source, "helper"));
        assert!(defines_fn(source, "refused_twice"));
        assert!(!defines_fn(source, "refused"), "a prefix of a longer name");
        assert!(
            !defines_fn(source, "stalls_more"),
            "a call is not a definition"
        );
        assert!(!defines_fn("xfn stalls() {}", "stalls"));
    }

    fn fake_repo(path: &str) -> Option<String> {
        match path {
            "crates/t/tests/a.rs" => Some("async fn refused() {}\nfn piped() {}".to_owned()),
            "crates/t/src/b.rs" => Some("mod tests { fn unit() {} }".to_owned()),
            "crates/l/tests/c.rs" => Some("fn other() {}".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn check_reports_missing_files_and_functions_and_low_counts() {
        let summary = check(&parse(SAMPLE), &fake_repo);
        assert_eq!((summary.server, summary.lms, summary.tests), (2, 1, 4));
        let problems = summary.problems.join("\n");
        assert!(
            problems.contains("L01 (line 12): crates/l/tests/c.rs has no `fn not_found`"),
            "{problems}"
        );
        assert!(problems.contains("only 2 server faults"), "{problems}");
        assert!(problems.contains("only 1 lms faults"), "{problems}");

        let missing = parse("| S01 | x | `crates/none.rs::t` |");
        let problems = check(&missing, &fake_repo).problems.join("\n");
        assert!(
            problems.contains("crates/none.rs does not exist"),
            "{problems}"
        );
    }

    #[test]
    fn duplicate_ids_are_reported() {
        let text = "| S01 | a | `crates/t/tests/a.rs::refused` |\n\
                    | S01 | b | `crates/t/tests/a.rs::piped` |\n";
        let problems = check(&parse(text), &fake_repo).problems.join("\n");
        assert!(
            problems.contains("S01 (line 2): duplicate id, first used on line 1"),
            "{problems}"
        );
    }

    #[test]
    fn enough_cases_with_every_test_found_is_clean() {
        let mut text = String::new();
        for i in 1..=MIN_SERVER {
            text.push_str(&format!(
                "| S{i:02} | f | `crates/t/tests/a.rs::refused` |\n"
            ));
        }
        for i in 1..=MIN_LMS {
            text.push_str(&format!("| L{i:02} | f | `crates/t/src/b.rs::unit` |\n"));
        }
        let summary = check(&parse(&text), &fake_repo);
        assert_eq!(
            summary,
            Summary {
                server: MIN_SERVER,
                lms: MIN_LMS,
                tests: 2,
                problems: Vec::new()
            }
        );
    }

    #[test]
    fn the_real_catalogue_parses_without_problems() {
        let path = crate::ci::repo_root().join(CATALOGUE);
        let text = fs::read_to_string(&path).unwrap();
        let catalogue = parse(&text);
        assert!(catalogue.problems.is_empty(), "{:?}", catalogue.problems);
        assert!(catalogue.cases.len() >= MIN_SERVER + MIN_LMS);
    }
}
