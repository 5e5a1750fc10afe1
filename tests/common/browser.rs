//! Headless Chromium for the browser tests: found as `chromium` (Debian's package, which
//! `.ci/run` installs) or `chromium-browser` on the PATH, or at `$SIM_CHROMIUM`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser, or `None` (said on stderr) when the tests may go without it; under CI (`CI` set)
/// a missing browser fails the test instead.
pub fn browser() -> Option<PathBuf> {
    let found = std::env::var_os("SIM_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no chromium on the PATH: .ci/run installs Debian's `chromium` package"
        );
        eprintln!("skipped: no chromium on the PATH (set SIM_CHROMIUM or install chromium)");
    }
    found
}

/// A page as the browser left it: the DOM after its scripts ran (empty for a screenshot), and
/// every console line it logged (an uncaught error is one).
pub struct Loaded {
    pub dom: String,
    pub console: Vec<String>,
}

/// Loads `page` from disk in a `width` × `height` window: the DOM, or a PNG at `screenshot`.
pub fn load(
    browser: &Path,
    page: &Path,
    screenshot: Option<&Path>,
    (width, height): (u32, u32),
) -> Loaded {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--window-size={width},{height}"));
    match screenshot {
        Some(png) => cmd.arg(format!("--screenshot={}", png.display())),
        None => cmd.arg("--dump-dom"),
    };
    let out = cmd
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    Loaded {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
            .map(str::to_string)
            .collect(),
    }
}
