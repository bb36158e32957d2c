//! Settings from the environment, checked at start: a missing or malformed setting stops
//! the process with a message naming it, rather than failing on the first request.

use std::net::{IpAddr, SocketAddr};

/// How to reach the Cloud Controller and UAA.
#[derive(Clone)]
pub struct CloudControllerSettings {
    /// `CF_API_URL`, such as `https://api.cloud.service.gov.uk`, without a trailing slash.
    pub api_url: String,
    /// `CF_CLIENT_ID`: a UAA client with the `client_credentials` grant.
    pub client_id: String,
    /// `CF_CLIENT_SECRET`.
    pub client_secret: String,
}

impl std::fmt::Debug for CloudControllerSettings {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudControllerSettings")
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The platform's credentials for calling the broker (HTTP Basic).
#[derive(Clone)]
pub struct BrokerCredentials {
    /// `BROKER_USERNAME`, the user the platform registered the broker with.
    pub username: String,
    /// `BROKER_PASSWORD`, compared in constant time and never logged.
    pub password: String,
}

/// What both modes need: where to listen (for the OSB API or `/metrics`), the store and
/// the Cloud Controller.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `BIND_ADDRESS` and `PORT`: where the OSB API (broker mode) or `/metrics` (updater
    /// mode) listens.
    pub listen: SocketAddr,
    /// `TARGETS_LOCATION`: a directory or `s3://bucket/prefix` (AWS variables as usual).
    pub targets_location: String,
    /// How to reach the Cloud Controller and UAA for the apps' facts.
    pub cloud_controller: CloudControllerSettings,
}

impl Settings {
    /// Reads the settings both modes share from `env`.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let api_url = required(env, "CF_API_URL")?;
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(format!(
                "`CF_API_URL` must be the Cloud Controller's URL, such as `https://api.example.org`, got `{api_url}`"
            ));
        }
        Ok(Settings {
            listen: listen_address(env)?,
            targets_location: required(env, "TARGETS_LOCATION")?,
            cloud_controller: CloudControllerSettings {
                api_url: api_url.trim_end_matches('/').to_owned(),
                client_id: required(env, "CF_CLIENT_ID")?,
                client_secret: required(env, "CF_CLIENT_SECRET")?,
            },
        })
    }
}

impl BrokerCredentials {
    /// `BROKER_USERNAME` and `BROKER_PASSWORD`, which the platform registers the broker with.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<BrokerCredentials, String> {
        Ok(BrokerCredentials {
            username: required(env, "BROKER_USERNAME")?,
            password: required(env, "BROKER_PASSWORD")?,
        })
    }
}

fn required(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<String, String> {
    match env(name) {
        Some(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(format!(
            "`{name}` is not set; see the broker's README for every setting"
        )),
    }
}

/// `BIND_ADDRESS` (default `0.0.0.0`) and `PORT` (default 8080; Cloud Foundry sets it).
fn listen_address(env: &dyn Fn(&str) -> Option<String>) -> Result<SocketAddr, String> {
    let port = match env("PORT") {
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| format!("`PORT` must be a port number, got `{port}`"))?,
        None => 8080,
    };
    let host = env("BIND_ADDRESS").unwrap_or_else(|| "0.0.0.0".to_owned());
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("`BIND_ADDRESS` must be an IP address, got `{host}`"))?;
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const ALL: [(&str, &str); 5] = [
        ("CF_API_URL", "https://api.example.org/"),
        ("CF_CLIENT_ID", "prometheus-broker"),
        ("CF_CLIENT_SECRET", "s3cret"),
        ("TARGETS_LOCATION", "/srv/targets"),
        ("PORT", "9000"),
    ];

    #[test]
    fn every_setting_is_read_and_the_secret_never_printed() {
        let settings = Settings::from_env(&env(&ALL)).unwrap();
        assert_eq!(settings.cloud_controller.api_url, "https://api.example.org");
        assert_eq!(settings.listen.port(), 9000);
        assert!(!format!("{settings:?}").contains("s3cret"));
    }

    #[test]
    fn a_missing_or_malformed_setting_is_named() {
        for (drop, message) in [
            ("CF_CLIENT_SECRET", "`CF_CLIENT_SECRET` is not set"),
            ("TARGETS_LOCATION", "`TARGETS_LOCATION` is not set"),
        ] {
            let pairs: Vec<_> = ALL.iter().copied().filter(|(k, _)| *k != drop).collect();
            let err = Settings::from_env(&env(&pairs)).unwrap_err();
            assert!(err.starts_with(message), "{err}");
        }
        let mut pairs = ALL.to_vec();
        pairs[4] = ("PORT", "http");
        assert_eq!(
            Settings::from_env(&env(&pairs)).unwrap_err(),
            "`PORT` must be a port number, got `http`"
        );
        pairs[4] = ("CF_API_URL", "api.example.org");
        assert!(Settings::from_env(&env(&pairs))
            .unwrap_err()
            .starts_with("`CF_API_URL` must be"));
        assert!(BrokerCredentials::from_env(&env(&[])).is_err());
    }
}
