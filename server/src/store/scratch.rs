//! Scratch PostgreSQL databases for tests: each test that needs PostgreSQL
//! gets an empty database of its own on the server [`ENV`] names, dropped
//! when the test is done.
//!
//! `.ci/run` starts a throwaway server and sets [`ENV`]; by hand,
//! `scripts/pg-throwaway` does the same (see the README). A test that needs
//! PostgreSQL and finds no [`ENV`] fails, saying so: it never passes by
//! skipping.

// Test support, compiled in so that other crates' tests can use it: a test
// that cannot get its database must fail loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable that names the test server: a connection URL of a role that
/// may create databases, e.g. `postgres://postgres@127.0.0.1:54329/postgres`.
pub const ENV: &str = "WEBRA2_TEST_PG";

/// The test server's URL, from [`ENV`]. Panics, saying what to do, when it is
/// not set.
pub fn server_url() -> String {
    match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "this test needs PostgreSQL and {ENV} is not set. Start a throwaway server with \
             `eval \"$(scripts/pg-throwaway start)\"` (README, \"Several replicas\") or point \
             {ENV} at a server where this role may CREATE DATABASE; .ci/run does it itself."
        ),
    }
}

/// `url` with its database name replaced by `db` (the part after the host,
/// before any `?`).
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let path_at = base[authority_at..]
        .find('/')
        .map_or(base.len(), |i| authority_at + i);
    let mut out = format!("{}/{db}", &base[..path_at]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An empty database on the test server, dropped (with whatever is still
/// connected to it) when this is dropped.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates an empty database on the server [`ENV`] names. Panics when
    /// [`ENV`] is not set or the server refuses.
    pub async fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = server_url();
        let name = format!(
            "webra2_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        execute_on(&server, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("{ENV}: CREATE DATABASE {name}: {e}"));
        let url = with_database(&server, &name);
        Self { server, name, url }
    }

    /// The URL of the database, for `--db` or [`super::open`].
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` on the database as the server's role.
    pub async fn execute(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        execute_on(&self.url, sql).await
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // On a thread of its own: a test's runtime may be the one dropping it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(drop_database(&server, &name)).ok()
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("note: the scratch database {} was not dropped", self.name);
        }
    }
}

/// Runs `sql` (one statement or several) on a connection of its own to `url`.
pub async fn execute_on(url: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let done = client.batch_execute(sql).await;
    drop(client);
    let _ = task.await;
    done
}

/// Drops database `name` of the server at `server`, with whatever is still
/// connected to it.
pub async fn drop_database(server: &str, name: &str) -> Result<(), tokio_postgres::Error> {
    execute_on(
        server,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        for (url, want) in [
            (
                "postgres://pg@127.0.0.1:5432/postgres",
                "postgres://pg@127.0.0.1:5432/x",
            ),
            (
                "postgres://pg@127.0.0.1:5432",
                "postgres://pg@127.0.0.1:5432/x",
            ),
            (
                "postgres://pg@localhost/postgres?host=/tmp/pg&port=5433",
                "postgres://pg@localhost/x?host=/tmp/pg&port=5433",
            ),
        ] {
            assert_eq!(with_database(url, "x"), want, "{url}");
        }
    }
}
