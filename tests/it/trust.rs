//! Issue 21: trust nothing the tool did not write. A journal planted in the output, a commit
//! killed half-way, a planted cache reference and blob, a foreign default cache, symlinks in the
//! cache, directory modes from the archive, ownership as root, GNU sparse members. Every test
//! goes through the binary, with the S3 test server and real archives.

use crate::common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

const OTHER_UID: u32 = 1000;

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Everything under `dir`: path -> what it is (a directory, a file's content, a link's target).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_dir() {
                "dir".to_string()
            } else {
                sha256_hex(&std::fs::read(&p).unwrap())
            };
            (p.strip_prefix(dir).unwrap().display().to_string(), what)
        })
        .collect()
}

/// A tar builder holding the manifest (one line) as its first member.
fn with_manifest(line: &str) -> tar::Builder<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    let manifest = format!("{line}\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "artifact_manifest.txt", manifest.as_bytes()).unwrap();
    b
}

fn chown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_journal_is_ignored_and_nothing_outside_the_output_is_touched() {
    let bed = Bed::new().await;
    let c = sha(2101);
    one_run(&bed, 2101, &c, &[("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "new"))]).await;
    let home = bed.home.path();
    let out = home.join("checkout/therock-artifacts");
    // What a pull request's checkout can ship: a staging tree and a journal naming paths outside.
    let (victim, moved, kept_empty) = (home.join("victim"), home.join("victim.txt"), home.join("empty"));
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("a.txt"), "mine").unwrap();
    std::fs::write(&moved, "mine too").unwrap();
    std::fs::create_dir_all(&kept_empty).unwrap();
    let staging = out.join(".therock-artifacts-staging-1");
    std::fs::create_dir_all(&staging).unwrap();
    let lines = [
        json!({"Placed": victim}).to_string(),
        json!({"SetAside": {"from": moved, "to": home.join("elsewhere")}}).to_string(),
        json!({"Created": kept_empty}).to_string(),
        format!("{} {}", "0".repeat(64), json!({"out": out, "nonce": "00"})),
        format!("{} {}", "0".repeat(64), json!({"Place": {"src": "Empty", "dst": victim, "tmp": home.join(".therock-artifacts-new-1")}})),
    ];
    std::fs::write(staging.join("journal.jsonl"), lines.join("\n") + "\n").unwrap();
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(victim.join("a.txt")).ok().as_deref(), Some("mine"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&moved).ok().as_deref(), Some("mine too"));
    assert!(!home.join("elsewhere").exists() && kept_empty.is_dir());
    assert!(stderr(&o).contains("ignored the journal") && stderr(&o).contains("not written by this tool"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("share/blas/gfx942.txt")).unwrap(), "new");
    assert!(!staging.exists(), "a staging tree with nothing set aside in it is removed");
}

/// Two versions of a tree of a few thousand files in two archives (same paths, other contents,
/// a file and a link of each version's own), for `run`.
fn put_version(bed: &Bed, run: u64, v: &str, files: usize) {
    for (name, target) in [("big", "gfx942"), ("more", "generic")] {
        let line = format!("{name}/stage");
        let paths: Vec<String> = (0..files).map(|i| format!("{line}/d{}/f{i}.txt", i % 40)).collect();
        let contents: Vec<String> = (0..files).map(|i| format!("{v}{i}")).collect();
        let (own, link) = (format!("{line}/only-{v}.txt"), format!("{line}/link-{v}"));
        let mut members: Vec<Member> = paths.iter().zip(&contents).map(|(p, c)| Member::File(p, c.as_bytes(), 0o644)).collect();
        members.push(Member::File(&own, v.as_bytes(), 0o644));
        members.push(Member::Symlink(&link, "d0"));
        bed.s3.put_artifact(BUCKET, &format!("{run}-linux/"), &format!("{name}_lib_{target}.tar.zst"), &zst(&tar_bytes(&[&line], &members)), true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_killed_at_any_point_leaves_exactly_the_old_tree_or_exactly_the_new_one() {
    let bed = Bed::new().await;
    let (ca, cb, cx) = (sha(2201), sha(2202), sha(2203));
    one_run(&bed, 2201, &ca, &[]).await;
    one_run(&bed, 2202, &cb, &[]).await;
    one_run(&bed, 2203, &cx, &[]).await;
    put_version(&bed, 2201, "A", 800);
    put_version(&bed, 2202, "B", 800);
    // A run whose archive fails verification: a fetch of it recovers the output, then commits nothing.
    bed.s3.put_artifact(BUCKET, "2203-linux/", "big_lib_gfx942.tar.zst", &simple_artifact("big", "gfx942", "x"), false);
    bed.s3.put(BUCKET, "2203-linux/big_lib_gfx942.tar.zst.sha256sum", format!("{}\n", "0".repeat(64)).as_bytes());
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let (mut kills, mut inside) = (0, 0);
    // (mode, pause per commit step in µs: a commit of a few steps is paused longer to be caught.)
    for (mode, pause_us, window_ms) in [("flatten", 100, 400), ("per-artifact", 60_000, 300), ("archives", 60_000, 300), ("bootstrap", 30_000, 300)] {
        let out = bed.home.path().join(format!("out-{mode}"));
        let out_s = out.to_str().unwrap().to_string();
        let fetch = |c: &str, pause_us: u64| {
            let mut cmd = bed.cmd();
            // flatten and archives refuse another commit's output unless told (issue 24 item 1).
            let clean: &[&str] = if matches!(mode, "flatten" | "archives") { &["--clean"] } else { &[] };
            cmd.args(fetch_args(c, &out_s, &["--extract", mode])).args(clean).env("THEROCK_ARTIFACTS_TEST_COMMIT_STEP_US", pause_us.to_string());
            cmd
        };
        let mut states = BTreeMap::new();
        for c in [&ca, &cb, &ca] {
            let o = run_cmd(fetch(c, 0)).await;
            assert_eq!(code(&o), 0, "{mode}: {}", stderr(&o));
            states.insert(c.clone(), snapshot(&out));
        }
        let mut current = ca.clone();
        for round in 0..5 {
            let target = if current == ca { cb.clone() } else { ca.clone() };
            let mut child = fetch(&target, pause_us).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
            let started = std::time::Instant::now();
            while !committing(&out) && started.elapsed().as_secs() < 20 && child.try_wait().unwrap().is_none() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            std::thread::sleep(std::time::Duration::from_millis(next(window_ms)));
            let _ = child.kill(); // SIGKILL
            let status = child.wait().unwrap();
            kills += 1;
            inside += committing(&out) as usize;
            let o = run_cmd(fetch(&cx, 0)).await;
            assert_ne!(code(&o), 0, "the recovering fetch fails verification: {}", stderr(&o));
            let now = snapshot(&out);
            let which = states.iter().find(|(_, s)| **s == now).map(|(c, _)| c.clone());
            let Some(which) = which else {
                let old = &states[&current];
                let changed: Vec<_> = now.iter().filter(|(k, v)| old.get(*k) != Some(*v)).take(5).collect();
                let lost: Vec<_> = old.keys().filter(|k| !now.contains_key(*k)).take(5).collect();
                panic!(
                    "{mode}, round {round} (killed: {status}): neither the old nor the new tree; vs the old, changed or new {changed:?}, lost {lost:?}\n{}",
                    stderr(&o)
                );
            };
            current = which;
        }
    }
    assert!(kills >= 20 && inside * 3 >= kills, "{inside} of {kills} kills landed inside a commit");
}

/// Whether a commit into `out` is under way (or was killed): a staging tree holds a journal.
fn committing(out: &Path) -> bool {
    std::fs::read_dir(out).is_ok_and(|rd| {
        rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".therock-artifacts-staging-") && e.path().join("journal.jsonl").exists())
    })
}

/// A first fetch of one archive, so the cache holds its blob and reference; the reference file.
async fn warm_cache(bed: &Bed, c: &str) -> PathBuf {
    let o = bed.run(&fetch_args(c, bed.home.path().join("warm").to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let refs: Vec<PathBuf> = std::fs::read_dir(bed.cache_dir().join("refs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(refs.len(), 1, "{refs:?}");
    refs[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_reference_and_blob_do_not_replace_the_sidecar() {
    if !is_root() {
        return; // planting as another user needs root
    }
    let bed = Bed::new().await;
    let c = sha(2301);
    one_run(&bed, 2301, &c, &[("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "genuine"))]).await;
    let reference = warm_cache(&bed, &c).await;
    // Another user who can write into the cache plants a reference saying "verified" and a blob.
    let evil = simple_artifact("blas", "gfx942", "planted");
    let digest = sha256_hex(&evil);
    let blob = bed.cache_dir().join("blobs/sha256").join(&digest);
    std::fs::write(&blob, &evil).unwrap();
    std::fs::write(&reference, format!("{digest} verified\n")).unwrap();
    chown(&blob, OTHER_UID);
    chown(&reference, OTHER_UID);
    let out = bed.home.path().join("o1");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("share/blas/gfx942.txt")).unwrap(), "genuine", "{}", stderr(&o));
    // The same, planted by this user, in a cache directory others may write: refused whole.
    let reference = warm_cache(&bed, &c).await;
    chown(&blob, 0);
    std::fs::write(&reference, format!("{digest} verified\n")).unwrap();
    std::fs::set_permissions(bed.cache_dir().join("refs"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = bed.home.path().join("o2");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("is refused") && stderr(&o).contains("fetching without the cache"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("share/blas/gfx942.txt")).unwrap(), "genuine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_cache_in_the_temp_dir_is_the_users_own() {
    let bed = Bed::new().await;
    let c = sha(2401);
    one_run(&bed, 2401, &c, &[("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "t"))]).await;
    let tmp = bed.home.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let uid = std::fs::metadata("/proc/self").unwrap().uid();
    let fetch = |out: &str| {
        let mut cmd = bed.cmd();
        cmd.env_remove("HOME").env_remove("XDG_CACHE_HOME").env_remove("THEROCK_ARTIFACTS_CACHE").env("TMPDIR", &tmp);
        cmd.args(fetch_args(&c, out, &["--json"]));
        cmd
    };
    let o = run_cmd(fetch(bed.home.path().join("o1").to_str().unwrap())).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mine = tmp.join(format!("therock-artifacts-cache-{uid}"));
    assert_eq!(stdout_json(&o)["cache_dir"], mine.display().to_string());
    assert_eq!(std::fs::metadata(&mine).unwrap().mode() & 0o777, 0o700);
    if is_root() {
        // Someone else made that name first: refused, and the fetch goes on without a cache.
        std::fs::remove_dir_all(&mine).unwrap();
        std::fs::create_dir_all(mine.join("blobs/sha256")).unwrap();
        walk(&mine).iter().chain([&mine]).for_each(|p| chown(p, OTHER_UID));
        let o = run_cmd(fetch(bed.home.path().join("o2").to_str().unwrap())).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert!(stderr(&o).contains(&format!("the cache directory {} is refused", mine.display())), "{}", stderr(&o));
        assert_eq!(std::fs::read_dir(mine.join("blobs/sha256")).unwrap().count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_maintenance_and_fetches_never_follow_a_symlink_in_the_cache() {
    let bed = Bed::new().await;
    let c = sha(2501);
    one_run(&bed, 2501, &c, &[("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "t"))]).await;
    let cache = bed.cache_dir();
    let victims = bed.home.path().join("victims");
    let digest_name = "ab".repeat(32);
    for (sub, file) in [("tmp", "1-2.partial".to_string()), ("refs", digest_name.clone()), ("blobs/sha256", digest_name.clone())] {
        let v = victims.join(sub.replace('/', "-"));
        std::fs::create_dir_all(&v).unwrap();
        std::fs::write(v.join(&file), "precious").unwrap();
        let at = cache.join(sub);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&v, &at).unwrap();
    }
    let before = snapshot(&victims);
    for args in [&["cache", "clear"][..], &["cache", "prune", "--max-size", "0"], &["cache", "info"]] {
        let o = bed.run(args).await;
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert_eq!(snapshot(&victims), before, "{args:?}");
    }
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("symlink") && stderr(&o).contains("fetching without the cache"), "{}", stderr(&o));
    assert_eq!(snapshot(&victims), before);
    assert!(out.join("share/blas/gfx942.txt").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_inside_the_output_is_refused() {
    let bed = Bed::new().await;
    let c = sha(2901);
    one_run(&bed, 2901, &c, &[("blas_lib_gfx942.tar.zst", simple_artifact("blas", "gfx942", "t"))]).await;
    let out = bed.home.path().join("o");
    let mut cmd = bed.cmd();
    cmd.env("THEROCK_ARTIFACTS_CACHE", out.join("share/cache")).args(fetch_args(&c, out.to_str().unwrap(), &[]));
    let o = run_cmd(cmd).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("lies inside the output directory") && stderr(&o).contains("fetching without the cache"), "{}", stderr(&o));
    assert!(!out.join("share/cache").exists());
    assert!(out.join("share/blas/gfx942.txt").is_file());
}

fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_modes_never_come_from_the_archive() {
    let bed = Bed::new().await;
    let c = sha(2601);
    let mut b = with_manifest("m/stage");
    for (dir, mode) in [("m/stage/open", 0o7777), ("m/stage/setgid", 0o2775), ("m/stage/locked", 0o500)] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_mode(mode);
        b.append_data(&mut h, dir, &[][..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("{dir}/f"), &b"x"[..]).unwrap();
    }
    one_run(&bed, 2601, &c, &[("m_lib_gfx942.tar.zst", zst(&b.into_inner().unwrap()))]).await;
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let want = 0o755 & !umask();
    for d in ["open", "setgid", "locked"] {
        let mode = std::fs::metadata(out.join(d)).unwrap().mode() & 0o7777;
        assert_eq!(mode, want, "{d}: {mode:o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_root_what_a_fetch_placed_goes_to_the_owner_of_the_output_directory() {
    if !is_root() {
        return;
    }
    let bed = Bed::new().await;
    let c = sha(2701);
    let line = "blas/stage";
    let arc = zst(&tar_bytes(&[line], &[Member::File("blas/stage/lib/a.so", b"a", 0o755), Member::Symlink("blas/stage/lib/b.so", "a.so")]));
    one_run(&bed, 2701, &c, &[("blas_lib_gfx942.tar.zst", arc)]).await;
    // The workspace owner's build directory, made by an earlier step, holding a file of root's.
    let build = bed.home.path().join("workspace/build");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(build.join("roots.txt"), "r").unwrap();
    chown(&build, OTHER_UID);
    for mode in ["flatten", "bootstrap"] {
        let o = bed.run(&fetch_args(&c, build.to_str().unwrap(), &["--extract", mode])).await;
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        for p in walk(&build).into_iter().filter(|p| !p.ends_with("roots.txt")) {
            assert_eq!(std::fs::symlink_metadata(&p).unwrap().uid(), OTHER_UID, "{mode}: {} stays root's", p.display());
        }
        assert_eq!(std::fs::metadata(build.join("roots.txt")).unwrap().uid(), 0, "what the fetch did not place is left alone");
    }
}

/// An archive whose second member is a GNU sparse file (type 'S') of 8 KiB: 512 bytes of data
/// at 4 KiB, holes around.
fn sparse_archive() -> Vec<u8> {
    let mut b = with_manifest("sp/stage");
    let mut h = tar::Header::new_gnu();
    h.set_path("sp/stage/lib/sparse.bin").unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_size(512);
    let octal = |v: u64| {
        let mut a = [0u8; 12];
        a[..11].copy_from_slice(format!("{v:011o}").as_bytes());
        a
    };
    let g = h.as_gnu_mut().unwrap();
    g.sparse[0].offset = octal(4096);
    g.sparse[0].numbytes = octal(512);
    g.sparse[1].offset = octal(8192);
    g.sparse[1].numbytes = octal(0);
    g.realsize = octal(8192);
    h.set_cksum();
    b.append(&h, &[7u8; 512][..]).unwrap();
    b.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gnu_sparse_member_is_extracted_and_a_pax_sparse_one_refused_never_dropped() {
    let bed = Bed::new().await;
    let c = sha(2801);
    one_run(&bed, 2801, &c, &[("sp_lib_gfx942.tar.zst", zst(&sparse_archive()))]).await;
    let out = bed.home.path().join("o");
    let o = bed.run(&fetch_args(&c, out.to_str().unwrap(), &[])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut want = vec![0u8; 8192];
    want[4096..4608].fill(7);
    assert_eq!(std::fs::read(out.join("lib/sparse.bin")).unwrap(), want);

    // The PAX form (GNU.sparse.* records, the data behind a map under a placeholder name).
    let c2 = sha(2802);
    let mut b = with_manifest("sp/stage");
    b.append_pax_extensions([
        ("GNU.sparse.major", &b"1"[..]),
        ("GNU.sparse.minor", b"0"),
        ("GNU.sparse.name", b"sp/stage/lib/p.bin"),
        ("GNU.sparse.realsize", b"8192"),
    ])
    .unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_size(1024);
    h.set_mode(0o644);
    b.append_data(&mut h, "sp/stage/GNUSparseFile.0/p.bin", &[0u8; 1024][..]).unwrap();
    one_run(&bed, 2802, &c2, &[("sp_lib_gfx942.tar.zst", zst(&b.into_inner().unwrap()))]).await;
    let out = bed.home.path().join("o2");
    let o = bed.run(&fetch_args(&c2, out.to_str().unwrap(), &[])).await;
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("sp/stage/GNUSparseFile.0/p.bin") && stderr(&o).contains("sparse"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_a_server_are_shown_escaped_on_the_terminal() {
    use wiremock::{matchers::method, Mock, ResponseTemplate};
    let bed = Bed::new().await;
    let c = sha(3101);
    // An answer whose message would retitle and clear the terminal.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}2J nope"})))
        .mount(&bed.gh)
        .await;
    let o = bed.run(&group_args("find", THEROCK, &c, &[])).await;
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    let (out, err) = (String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(!out.chars().chain(err.chars()).any(|ch| ch.is_control() && ch != '\n' && ch != '\t'), "raw control characters: {err:?}");
    assert!(err.contains("\\x1b]0;pwned\\x07"), "{err}");
}

/// Issue 21 item 12: one key in a run prefix holding a control character (which XML 1.0 cannot
/// carry) must not make the whole listing unreadable: the listing is asked URL-encoded and
/// decoded, so the run's archives are still found (and the odd key, no artifact, is left out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_a_control_character_does_not_break_the_listing() {
    let bed = Bed::new().await;
    let c = sha(3201);
    let archive = simple_artifact("blas", "gfx94X-dcgpu", "x");
    one_run(&bed, 3202, &c, &[("blas_lib_gfx94X-dcgpu.tar.zst", archive)]).await;
    bed.s3.put(BUCKET, "3202-linux/notes\u{1}.txt", b"planted");
    let o = bed.run(&group_args("find", THEROCK, &c, &["--json"])).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["results"][0]["artifact_filenames"], json!(["blas_lib_gfx94X-dcgpu.tar.zst"]), "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topology_planted_in_a_shared_cache_does_not_choose_the_plan() {
    let (bed, _, pr_head) = crate::reuse::pr_bed(&["rocm-libraries"]).await;
    let args = group_args("reuse", THEROCK, &pr_head, &["--json"]);
    let o = bed.run(&args).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dir = bed.cache_dir().join("topology");
    let kept = dir.join(format!("rocm-therock-{pr_head}.toml"));
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), TOPOLOGY, "kept for the next run");
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    // Someone else's topology (here one that names an artifact nothing builds: read, it would be
    // refused as unusable) in a directory others may write, then in a file others may write.
    let planted = TOPOLOGY.replace("artifact_deps = [\"blas\"]", "artifact_deps = [\"blass\"]");
    for (dir_mode, file_mode) in [(0o777, 0o644), (0o700, 0o666)] {
        std::fs::write(&kept, &planted).unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(file_mode)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(dir_mode)).unwrap();
        let before = request_count(&bed.gh).await;
        let o = bed.run(&args).await;
        assert_eq!(code(&o), 0, "dir {dir_mode:o}, file {file_mode:o}: the planted file was read: {}", stderr(&o));
        assert!(request_count(&bed.gh).await > before, "asked GitHub again");
        assert_eq!(stdout_json(&o)["rebuild_stages"], json!(["cv-libs", "math-libs"]));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    // What it kept again is GitHub's text, in place of the planted one, and trusted next time.
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), TOPOLOGY);
}
