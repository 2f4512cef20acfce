//! `bisect`: the rules that turn its flags into `BisectOptions` (the range's ends, `--plan`).
//! Pure.

use std::path::{Path, PathBuf};

use super::error::{ConfigError, Field};
use super::facts::CheckoutFacts;
use super::parse::{branch, commit, err, given, max_commits, number, pick, program};
use super::raw::BisectRaw;
use super::{BisectOptions, Ends, PlanOptions, Subject};

pub(super) fn bisect(b: &BisectRaw, checkout: Option<&CheckoutFacts>, cache_dir: &Path) -> Result<BisectOptions, ConfigError> {
    let plan = plan(b)?;
    let command = match &plan {
        Some(_) if b.command.is_empty() => Vec::new(),
        Some(_) => return Err(err(Field::Program, "--plan runs no test: each matrix job runs `exec` on its commit")),
        None => program(&b.command)?,
    };
    Ok(BisectOptions {
        ends: ends(b, checkout, plan.as_ref())?,
        plan,
        overlay: b.overlay,
        branch: branch(&b.branch, Field::Branch)?,
        max_commits: max_commits(&b.max_commits)?,
        pick: pick(&b.select)?,
        workdir: given(&b.workdir).map(PathBuf::from),
        keep: b.keep,
        command,
        cache_dir: cache_dir.to_path_buf(),
    })
}

/// The bisected range's ends: two commits, a bump's two TheRock commits, or a plan's state.
fn ends(b: &BisectRaw, checkout: Option<&CheckoutFacts>, plan: Option<&PlanOptions>) -> Result<Ends, ConfigError> {
    let sha = |v: &Option<String>, f: Field| match given(v) {
        Some(s) => match commit(&s, checkout, f)? {
            Subject::Commit { sha, .. } => Ok(sha),
            _ => Err(err(f, "expected a commit")),
        },
        None => Err(err(f, "not given")),
    };
    let hex = |v: &Option<String>, f: Field| -> Result<Option<String>, ConfigError> {
        given(v)
            .map(|s| if crate::domain::sha::is_hex_commitish(&s) { Ok(s.to_ascii_lowercase()) } else { Err(err(f, format!("'{s}' is not a commit SHA"))) })
            .transpose()
    };
    let submodule = given(&b.bump.submodule);
    if let Some(m) = &submodule {
        if !crate::domain::gitlinks::SUBMODULES.iter().any(|(path, _)| path == m) {
            let names: Vec<&str> = crate::domain::gitlinks::SUBMODULES.iter().map(|(p, _)| *p).collect();
            return Err(err(Field::Submodule, format!("unknown submodule '{m}'; TheRock's super-repos are {}", names.join(", "))));
        }
    }
    if let Some(bad) = hex(&b.bump.bump, Field::Bump)?.or(hex(&b.bump.bad_therock, Field::Bump)?) {
        let good_therock = hex(&b.bump.good_therock, Field::Bump)?;
        return Ok(Ends::Bump { good_therock, bad_therock: bad, submodule });
    }
    if plan.is_some_and(|p| p.state.is_some()) && given(&b.good).is_none() && given(&b.bad).is_none() {
        return Ok(Ends::FromState);
    }
    let (good, bad) = (sha(&b.good, Field::Good)?, sha(&b.bad, Field::Bad)?);
    let (short, full) = if good.len() <= bad.len() { (&good, &bad) } else { (&bad, &good) };
    if full.len() == 40 && full.starts_with(short.as_str()) {
        return Err(err(Field::Bad, format!("names the same commit as --good ({}): there is nothing to bisect", &full[..12])));
    }
    Ok(Ends::Commits { good, bad })
}

/// `--plan --ways K [--state FILE --result SHA=VERDICT...]`.
fn plan(b: &BisectRaw) -> Result<Option<PlanOptions>, ConfigError> {
    if !b.plan.plan {
        return Ok(None);
    }
    let ways = match given(&b.plan.ways) {
        Some(w) => match number(&w, Field::Ways, "count")? {
            k @ 1..=256 => k as usize,
            k => return Err(err(Field::Ways, format!("{k} is out of range: a round tests 1 to 256 commits"))),
        },
        None => 3,
    };
    let results = b.plan.result.iter().map(|r| crate::domain::bisect_plan::parse_result(r).map_err(|why| err(Field::Result, why))).collect::<Result<_, _>>()?;
    Ok(Some(PlanOptions { ways, state: given(&b.plan.state).map(PathBuf::from), results }))
}
