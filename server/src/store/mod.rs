//! The store: a narrow interface the handlers use, with SQLite (embedded, the
//! default) or PostgreSQL (shared by several replicas) behind it.
//!
//! Handlers never see SQL. Each backend implements [`Store`] and nothing else
//! changes. Every method that changes more than one row does so in
//! one transaction, and every conditional change is decided by the database
//! (`UPDATE ... WHERE state IN (...)`), not by a read followed by a write, so
//! concurrent requests cannot both win.
//!
//! [`open`] picks the backend from the store URL; [`contract`] holds the rules
//! every backend keeps, as tests any backend can run.

pub mod contract;
mod interface;
mod postgres;
mod recent;
pub mod scratch;
mod sqlite;

pub use interface::*;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use interface::URL_FORMS;
use std::sync::Arc;

/// Opens the store at `url`, the backend chosen by the URL's scheme:
/// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`, or
/// `postgres://USER@HOST:PORT/DB` (also `postgresql://`).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::connect(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(PostgresStore::connect(url).await?)),
        // Only the scheme is repeated: the rest of a database URL may hold a password.
        Some(scheme) => Err(StoreError::Url(format!(
            "scheme {scheme:?} is not a store this build has; {URL_FORMS}"
        ))),
        None => Err(StoreError::Url(format!("without a scheme; {URL_FORMS}"))),
    }
}

/// `url` as it may be shown (the ready line, a log, an error): a password
/// in it is replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_owned(),
    };
    let mut shown = format!("{scheme}://{user}@{host}{path}");
    // A password may also come as a parameter.
    if let Some(at) = shown.find("password=") {
        let end = shown[at..].find('&').map_or(shown.len(), |e| at + e);
        shown.replace_range(at + "password=".len()..end, "***");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[tokio::test]
    async fn a_store_url_of_a_scheme_this_build_lacks_is_refused_without_repeating_its_password() {
        for (url, says) in [
            ("mysql://ca:s3cret@db/ca", "\"mysql\""),
            ("ca.db", "without a scheme"),
        ] {
            let err = match open(url).await {
                Ok(_) => panic!("{url} opened a store"),
                Err(err) => err,
            };
            assert!(matches!(err, StoreError::Url(_)), "{url}: {err:?}");
            let shown = err.to_string();
            assert!(shown.contains(says), "{url}: {shown}");
            assert!(shown.contains(URL_FORMS), "{url}: {shown}");
            assert!(!shown.contains("s3cret"), "{url}: {shown}");
        }
    }

    #[test]
    fn a_shown_store_url_never_carries_its_password() {
        for (url, shown) in [
            (
                "postgres://ca:s3cret@db:5432/ca",
                "postgres://ca:***@db:5432/ca",
            ),
            ("postgres://ca@db/ca", "postgres://ca@db/ca"),
            (
                "postgres://ca@db/ca?password=s3cret&sslmode=disable",
                "postgres://ca@db/ca?password=***&sslmode=disable",
            ),
            ("sqlite:///data/ca.db", "sqlite:///data/ca.db"),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }

    #[tokio::test]
    async fn a_sqlite_url_opens_a_store_that_answers() {
        let store = open("sqlite::memory:").await.expect("opens");
        assert_eq!(store.next_crl_number().await.expect("answers"), 1);
    }

    /// The `pub async fn` names of `contract.rs`, or the rule names its macro
    /// lists (the lines between `@each $make;` and `);`).
    fn contract_names(listed: bool) -> BTreeSet<&'static str> {
        let src = include_str!("contract.rs");
        if !listed {
            return src
                .lines()
                .filter_map(|l| l.strip_prefix("pub async fn "))
                .filter_map(|l| l.split('(').next())
                .collect();
        }
        src.lines()
            .skip_while(|l| !l.contains("@each $make;"))
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with(')'))
            .map(|l| l.trim().trim_end_matches(','))
            .collect()
    }

    #[test]
    fn the_contract_macro_runs_every_rule_the_contract_defines() {
        let defined = contract_names(false);
        assert!(defined.len() >= 18, "{defined:?}");
        assert_eq!(contract_names(true), defined);
    }
}
