//! `LOAD DATA [LOCAL] INFILE` through mizzled with the stock `mariadb`
//! client: the client sends its file when both sides allow it, a large
//! file streams through a spool without growing the server, and the
//! server's own files are out of a client's reach unless
//! `--secure-file-priv` allows them.

mod harness;

use std::io::Write;
use std::process::{Command, Stdio};

use harness::{require, temp_dir, threads_and_rss_kib, Server, ROOT_PASSWORD};

fn mariadb(server: &Server, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", &server.port().to_string(), "-u", "root"])
        .arg(format!("-p{ROOT_PASSWORD}"))
        .args(["--batch", "--skip-ssl"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mariadb");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn local_infile_streams_a_large_file_from_the_client() {
    if !require("mariadb") {
        return;
    }
    let dir = temp_dir("load-local");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("rows.tsv");
    let rows = 200_000;
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).expect("create"));
        for i in 1..=rows {
            writeln!(f, "{i}\tname number {i}\t{}.{:02}", i % 1000, i % 100).expect("write");
        }
    }
    let server = Server::start_with("load-local", &["--local-infile"]);
    let (ok, _, err) = mariadb(
        &server,
        &[],
        "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(8,2));",
    );
    assert!(ok, "{err}");
    let (_, rss_before) = threads_and_rss_kib(server.pid());
    let sql = format!("LOAD DATA LOCAL INFILE '{}' INTO TABLE d.t;\nSELECT ROW_COUNT();\n", file.display());
    let (ok, out, err) = mariadb(&server, &["--local-infile=1"], &sql);
    assert!(ok, "{err}");
    assert!(out.contains(&rows.to_string()), "{out}");
    let (ok, out, err) = mariadb(&server, &[], "SELECT COUNT(*), SUM(id), MAX(name) FROM d.t WHERE price IS NOT NULL;");
    assert!(ok, "{err}");
    let sum: u64 = (1..=rows as u64).sum();
    assert!(out.contains(&format!("{rows}\t{sum}\tname number 99999")), "{out}");
    let (_, rss_after) = threads_and_rss_kib(server.pid());
    // The file is ~7 MB; the rows themselves live in the engine, so this
    // only bounds what the transfer holds (one packet at a time).
    eprintln!("RSS {rss_before} KiB -> {rss_after} KiB for a {} byte file", std::fs::metadata(&file).unwrap().len());
    // The spool is gone once the connection has ended.
    let leftovers = std::fs::read_dir(std::env::temp_dir())
        .expect("tmp")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&format!("mizzled-local-{}-", server.pid())))
        .count();
    assert_eq!(leftovers, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn local_infile_needs_both_sides_and_server_files_need_secure_file_priv() {
    if !require("mariadb") {
        return;
    }
    let dir = temp_dir("load-refused");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("a.tsv");
    std::fs::write(&file, "1\tx\n").expect("write");
    // Server without --local-infile: 3948 even when the client allows it.
    let server = Server::start("load-refused");
    let (ok, _, err) = mariadb(&server, &[], "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v TEXT);");
    assert!(ok, "{err}");
    let sql = format!("LOAD DATA LOCAL INFILE '{}' INTO TABLE d.t;", file.display());
    let (ok, _, err) = mariadb(&server, &["--local-infile=1"], &sql);
    assert!(!ok && err.contains("3948"), "{err}");
    // Server-side files: refused without --secure-file-priv (NULL).
    let sql = format!("LOAD DATA INFILE '{}' INTO TABLE d.t;", file.display());
    let (ok, _, err) = mariadb(&server, &[], &sql);
    assert!(!ok && err.contains("1290"), "{err}");
    drop(server);

    let other = temp_dir("load-elsewhere");
    std::fs::create_dir_all(&other).expect("mkdir");
    let outside = other.join("b.tsv");
    std::fs::write(&outside, "2\ty\n").expect("write");
    let server = Server::start_with("load-allowed", &["--secure-file-priv", &dir.to_string_lossy(), "--local-infile"]);
    let (ok, _, err) = mariadb(&server, &[], "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v TEXT);");
    assert!(ok, "{err}");
    let sql = format!("LOAD DATA INFILE '{}' INTO TABLE d.t; SELECT v FROM d.t;", file.display());
    let (ok, out, err) = mariadb(&server, &[], &sql);
    assert!(ok && out.contains('x'), "{out} {err}");
    // A file outside the directory: 1290.
    let sql = format!("LOAD DATA INFILE '{}' INTO TABLE d.t;", outside.display());
    let (ok, _, err) = mariadb(&server, &[], &sql);
    assert!(!ok && err.contains("1290"), "{err}");
    let (ok, out, err) = mariadb(&server, &[], "SELECT COUNT(*) FROM d.t WHERE v = 'y';");
    assert!(ok && out.lines().nth(1) == Some("0"), "{out} {err}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}
