//! Discovery order and per-platform rules, with every input injected.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)] // fake `lms` executables are `#!/bin/sh` scripts

use crate::common;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use common::{write_plain, write_script};
use lmstudio_lms::{DiscoveryInputs, DiscoverySource, LmsError, Platform, discover, lmstudio_home};

fn inputs(platform: Platform) -> DiscoveryInputs {
    DiscoveryInputs::new(platform)
}

fn mkdir(path: &Path) -> PathBuf {
    fs::create_dir_all(path).unwrap();
    path.to_path_buf()
}

fn path_var(dirs: &[&Path], sep: &str) -> Option<OsString> {
    let joined: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Some(OsString::from(joined.join(sep)))
}

#[test]
fn explicit_wins_over_env_path_and_home() {
    let t = tempfile::tempdir().unwrap();
    let explicit = write_script(&mkdir(&t.path().join("a")), "lms", "");
    let env = write_script(&mkdir(&t.path().join("b")), "lms", "");
    let on_path = mkdir(&t.path().join("c"));
    write_script(&on_path, "lms", "");
    let home = mkdir(&t.path().join("home"));
    write_script(&mkdir(&home.join(".lmstudio/bin")), "lms", "");

    let mut i = inputs(Platform::Linux);
    i.explicit = Some(explicit.clone());
    i.env_lms_path = Some(env.clone().into());
    i.path_var = path_var(&[&on_path], ":");
    i.home_dir = Some(home);
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (explicit, DiscoverySource::Explicit)
    );

    i.explicit = None;
    let found = discover(&i).unwrap();
    assert_eq!((found.path, found.source), (env, DiscoverySource::EnvVar));

    i.env_lms_path = Some(OsString::new()); // empty counts as unset
    let found = discover(&i).unwrap();
    assert_eq!(found.source, DiscoverySource::PathSearch);
    assert_eq!(found.path, on_path.join("lms"));
}

#[test]
fn explicit_problems_are_reported_not_skipped() {
    let t = tempfile::tempdir().unwrap();
    let home = mkdir(&t.path().join("home"));
    write_script(&mkdir(&home.join(".lmstudio/bin")), "lms", "");

    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(home);
    i.explicit = Some(t.path().join("missing/lms"));
    match discover(&i) {
        Err(LmsError::NotFoundAt { path, from }) => {
            assert_eq!(path, t.path().join("missing/lms"));
            assert_eq!(from, DiscoverySource::Explicit);
        }
        other => panic!("{other:?}"),
    }

    let plain = write_plain(t.path(), "lms-plain", "not a program");
    i.explicit = None;
    i.env_lms_path = Some(plain.clone().into());
    match discover(&i) {
        Err(LmsError::NotExecutable { path }) => assert_eq!(path, plain),
        other => panic!("{other:?}"),
    }

    i.env_lms_path = Some(t.path().as_os_str().to_owned()); // a directory
    assert!(matches!(discover(&i), Err(LmsError::NotExecutable { .. })));
}

#[test]
fn explicit_tilde_uses_the_injected_home() {
    let t = tempfile::tempdir().unwrap();
    let lms = write_script(&mkdir(&t.path().join("tools")), "lms", "");
    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(t.path().to_path_buf());
    i.explicit = Some(PathBuf::from("~/tools/lms"));
    let found = discover(&i).unwrap();
    assert_eq!(found.path, lms);
    assert!(found.path.is_absolute());
}

#[test]
fn path_comes_before_the_home_pointer() {
    let t = tempfile::tempdir().unwrap();
    let on_path = mkdir(&t.path().join("bin"));
    write_script(&on_path, "lms", "");
    let home = mkdir(&t.path().join("home"));
    let pointed = mkdir(&t.path().join("custom-home"));
    write_script(&mkdir(&pointed.join("bin")), "lms", "");
    fs::write(
        home.join(".lmstudio-home-pointer"),
        format!("{}\n", pointed.display()),
    )
    .unwrap();

    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(home);
    i.path_var = path_var(&[Path::new("/nonexistent-dir"), &on_path], ":");
    let found = discover(&i).unwrap();
    assert_eq!(found.source, DiscoverySource::PathSearch);
    assert_eq!(found.path, on_path.join("lms"));

    i.path_var = path_var(&[Path::new("/nonexistent-dir")], ":");
    let found = discover(&i).unwrap();
    assert_eq!(found.source, DiscoverySource::HomePointer);
    assert_eq!(found.path, pointed.join("bin/lms"));
}

#[test]
fn home_pointer_beats_legacy_and_default_homes() {
    let t = tempfile::tempdir().unwrap();
    let home = mkdir(&t.path().join("home"));
    write_script(&mkdir(&home.join(".cache/lm-studio/bin")), "lms", "");
    write_script(&mkdir(&home.join(".lmstudio/bin")), "lms", "");
    let pointed = mkdir(&t.path().join("elsewhere"));
    write_script(&mkdir(&pointed.join("bin")), "lms", "");
    // Trimmed: surrounding whitespace and newline.
    fs::write(
        home.join(".lmstudio-home-pointer"),
        format!("  {}  \r\n", pointed.display()),
    )
    .unwrap();

    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(home.clone());
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (pointed.join("bin/lms"), DiscoverySource::HomePointer)
    );
    assert_eq!(
        lmstudio_home(&home),
        (pointed, DiscoverySource::HomePointer)
    );
}

#[test]
fn legacy_cache_home_is_used_when_it_exists() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().to_path_buf();
    let legacy_bin = mkdir(&home.join(".cache/lm-studio/bin"));
    write_script(&legacy_bin, "lms", "");
    write_script(&mkdir(&home.join(".lmstudio/bin")), "lms", "");

    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(home.clone());
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (legacy_bin.join("lms"), DiscoverySource::LegacyCacheHome)
    );

    // An empty pointer file is ignored.
    fs::write(home.join(".lmstudio-home-pointer"), "  \n").unwrap();
    assert_eq!(
        discover(&i).unwrap().source,
        DiscoverySource::LegacyCacheHome
    );
}

#[test]
fn default_home_and_not_found() {
    let t = tempfile::tempdir().unwrap();
    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(t.path().to_path_buf());
    i.path_var = path_var(&[t.path()], ":");
    let err = discover(&i).unwrap_err();
    assert!(matches!(err, LmsError::NotFound), "{err:?}");
    assert_eq!(
        err.to_string(),
        "LM Studio not found. Please install LM Studio from https://lmstudio.ai/"
    );

    let bin = mkdir(&t.path().join(".lmstudio/bin"));
    write_script(&bin, "lms", "");
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (bin.join("lms"), DiscoverySource::DefaultHome)
    );

    // No home at all and nothing on PATH.
    assert!(matches!(
        discover(&inputs(Platform::Linux)),
        Err(LmsError::NotFound)
    ));
}

#[test]
fn non_executable_on_path_is_skipped_then_reported() {
    let t = tempfile::tempdir().unwrap();
    let first = mkdir(&t.path().join("first"));
    let second = mkdir(&t.path().join("second"));
    let plain = write_plain(&first, "lms", "#!/bin/sh\n");
    write_script(&second, "lms", "");

    let mut i = inputs(Platform::Linux);
    i.path_var = path_var(&[&first, &second], ":");
    assert_eq!(discover(&i).unwrap().path, second.join("lms"));

    i.path_var = path_var(&[&first], ":");
    match discover(&i) {
        Err(LmsError::NotExecutable { path }) => assert_eq!(path, plain),
        other => panic!("{other:?}"),
    }

    // The same for a non-executable binary in LM Studio's home.
    let home = mkdir(&t.path().join("home"));
    let home_plain = write_plain(&mkdir(&home.join(".lmstudio/bin")), "lms", "");
    let mut i = inputs(Platform::Linux);
    i.home_dir = Some(home);
    match discover(&i) {
        Err(LmsError::NotExecutable { path }) => assert_eq!(path, home_plain),
        other => panic!("{other:?}"),
    }
}

#[test]
fn relative_path_entries_are_ignored() {
    let t = tempfile::tempdir().unwrap();
    let mut i = inputs(Platform::Linux);
    // "" and "." mean the current directory; never run an lms from there implicitly.
    i.path_var = Some(OsString::from("::.:relative/bin"));
    i.home_dir = Some(t.path().to_path_buf());
    assert!(matches!(discover(&i), Err(LmsError::NotFound)));
}

#[test]
fn windows_rules_pathext_semicolons_and_lms_exe() {
    let t = tempfile::tempdir().unwrap();
    let a = mkdir(&t.path().join("a"));
    let b = mkdir(&t.path().join("b"));
    // Extensionless `lms` is not a Windows program; `lms.cmd` via PATHEXT is.
    write_plain(&a, "lms", "");
    write_plain(&b, "lms.cmd", "@echo off");

    let mut i = inputs(Platform::Windows);
    i.path_var = path_var(&[&a, &b], ";");
    i.pathext = Some(OsString::from(".COM;.EXE;.BAT;.CMD"));
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (b.join("lms.cmd"), DiscoverySource::PathSearch)
    );

    // `.exe` is tried before `.cmd` in the same directory (PATHEXT order).
    write_plain(&b, "lms.exe", "MZ");
    assert_eq!(discover(&i).unwrap().path, b.join("lms.exe"));

    // With `:` as separator the two directories are one bogus entry: nothing found.
    let mut colon = i.clone();
    colon.path_var = path_var(&[&a, &b], ":");
    colon.home_dir = Some(t.path().to_path_buf());
    assert!(matches!(discover(&colon), Err(LmsError::NotFound)));

    // Home: `<home>\.lmstudio\bin\lms.exe`; a plain `lms` there does not count.
    let home = mkdir(&t.path().join("userprofile"));
    let bin = mkdir(&home.join(".lmstudio/bin"));
    write_plain(&bin, "lms", "");
    let mut i = inputs(Platform::Windows);
    i.home_dir = Some(home);
    assert!(matches!(discover(&i), Err(LmsError::NotFound)));
    write_plain(&bin, "lms.exe", "MZ");
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (bin.join("lms.exe"), DiscoverySource::DefaultHome)
    );
}

#[test]
fn windows_default_pathext_when_unset() {
    let t = tempfile::tempdir().unwrap();
    write_plain(t.path(), "lms.bat", "");
    let mut i = inputs(Platform::Windows);
    i.path_var = path_var(&[t.path()], ";");
    assert_eq!(discover(&i).unwrap().path, t.path().join("lms.bat"));
}

#[test]
fn macos_rules_match_unix() {
    let t = tempfile::tempdir().unwrap();
    let home = mkdir(&t.path().join("Users/me"));
    let bin = mkdir(&home.join(".lmstudio/bin"));
    write_script(&bin, "lms", "");
    let mut i = inputs(Platform::MacOs);
    i.home_dir = Some(home);
    i.path_var = Some(OsString::from("/usr/bin:/bin"));
    let found = discover(&i).unwrap();
    assert_eq!(
        (found.path, found.source),
        (bin.join("lms"), DiscoverySource::DefaultHome)
    );

    // `lms.exe` means nothing on macOS.
    let other = mkdir(&t.path().join("other"));
    write_script(&other, "lms.exe", "");
    let mut i = inputs(Platform::MacOs);
    i.path_var = path_var(&[&other], ":");
    assert!(matches!(discover(&i), Err(LmsError::NotFound)));
}

#[test]
fn from_process_keeps_the_explicit_path_and_platform() {
    let i = DiscoveryInputs::from_process(Some(PathBuf::from("/opt/lms")));
    assert_eq!(i.explicit, Some(PathBuf::from("/opt/lms")));
    assert_eq!(i.platform, Platform::current());
    assert!(i.pathext.is_none() || i.platform == Platform::Windows);
}
