//! No open doors: another local user (`nobody`, via `runuser`; CI runs as root) cannot use the
//! PostgreSQL the harness starts — not over TCP without the run's password, not through the
//! unix socket, whose directory is private — and the role the benchmark gets is not a
//! superuser. The same user *with* the password gets in over TCP: the password, not a broken
//! client, is what keeps it out.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output};
use targets::servers::postgres::{PostgresConfig, PostgresServer, USER};

fn psql_as_nobody(host: &str, port: u16, password: Option<&str>) -> Output {
    let mut command = Command::new("runuser");
    command.args(["-u", "nobody", "--", "psql", "-h", host, "-p", &port.to_string(), "-U", USER, "-d", "postgres"]);
    command.args(["-w", "-Atc", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"]);
    command.current_dir("/").env_remove("PGPASSWORD");
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    command.output().expect("runuser and psql run")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn another_local_user_cannot_connect_to_the_postgres_the_harness_starts() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: switching to another user needs root (CI runs as root)");
        return;
    }
    let config = PostgresConfig { fsync: false, max_prepared_transactions: 10, max_connections: 20 };
    let server = PostgresServer::start(config).expect("postgres starts");
    let port = server.addr().port();
    let dir = server.dir().to_str().unwrap().to_string();
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700, "{dir} is private");

    let tcp = psql_as_nobody("127.0.0.1", port, None);
    assert!(!tcp.status.success(), "nobody got in over TCP without a password: {}", text(&tcp));
    assert!(text(&tcp).contains("password"), "refused for want of a password: {}", text(&tcp));

    let socket = psql_as_nobody(&dir, port, None);
    assert!(!socket.status.success(), "nobody got in through the socket: {}", text(&socket));

    let guessed = psql_as_nobody("127.0.0.1", port, Some("stratbench"));
    assert!(!guessed.status.success(), "a guessed password worked: {}", text(&guessed));

    let with_password = psql_as_nobody("127.0.0.1", port, Some(server.access().password()));
    assert!(with_password.status.success(), "the run's password lets a client in: {}", text(&with_password));
    assert_eq!(String::from_utf8_lossy(&with_password.stdout).trim(), "f", "the benchmark's role is no superuser");
}
