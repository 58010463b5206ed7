//! The load-balancing roles: an HTTP backend with a latency model, and an HTTP reverse proxy
//! with a balancing strategy, each serving until Ctrl-C, SIGTERM or the end of its stdin.

use crate::cli::{BackendArgs, ProxyArgs, ServeCommon};
use crate::error::Outcome;
use crate::error::bad_input;
use anyhow::Context as _;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use targets::balancing::latency::LatencyModel;
use targets::balancing::net::{LISTENING, backend, proxy};
use targets::balancing::{BalancingParams, Selector, SelectorVisitor, Strategy};

/// How often a server checks whether it was asked to stop.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Runs an HTTP backend until it is stopped.
pub fn run_backend(args: &BackendArgs) -> anyhow::Result<Outcome> {
    let latency = LatencyModel::parse(&args.latency).map_err(|e| bad_input(format!("--latency: {e}")))?;
    if !(0.0..=1.0).contains(&args.error_rate) {
        return Err(bad_input(format!("--error-rate must be from 0 to 1, got {}", args.error_rate)));
    }
    let config = backend::BackendConfig {
        id: args.id,
        latency,
        capacity: args.capacity.map(|c| u32::try_from(c.0).unwrap_or(u32::MAX)),
        error_rate: args.error_rate,
        seed: args.common.seed,
    };
    serve_until_stopped(&args.common, |listener| backend::serve(listener, config))
}

/// Runs an HTTP proxy until it is stopped.
pub fn run_proxy(args: &ProxyArgs) -> anyhow::Result<Outcome> {
    let strategy = Strategy::from_name(&args.strategy).ok_or_else(|| {
        bad_input(format!(
            "--strategy: unknown balancing strategy `{}` (strategies: {})",
            args.strategy,
            Strategy::names()
        ))
    })?;
    let backends = args
        .backends
        .iter()
        .map(|b| {
            let address: SocketAddr = b
                .trim()
                .parse()
                .map_err(|_| bad_input(format!("--backends: `{b}` is not an address like 127.0.0.1:8001")))?;
            if !address.ip().is_loopback() {
                return Err(bad_input(format!("--backends: `{b}` is not a loopback address")));
            }
            Ok(address)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let table = args.params.iter().cloned().collect();
    let params = BalancingParams::from_table(&table).map_err(|e| bad_input(format!("--param: {e}")))?;
    params.backends(backends.len() as u32).map_err(|e| bad_input(format!("--param: {e}")))?;
    let config = proxy::ProxyConfig { backends, params, seed: args.common.seed, attempt_log: args.attempt_log.clone() };
    strategy.visit(ProxyRun { common: &args.common, config })
}

struct ProxyRun<'a> {
    common: &'a ServeCommon,
    config: proxy::ProxyConfig,
}

impl SelectorVisitor for ProxyRun<'_> {
    type Output = anyhow::Result<Outcome>;

    fn visit<S: Selector>(self, _strategy: Strategy) -> anyhow::Result<Outcome> {
        let config = self.config;
        serve_until_stopped(self.common, move |listener| proxy::serve::<S>(listener, config))
    }
}

/// Binds, says so, and runs `server` until Ctrl-C, SIGTERM or (if asked) the end of stdin.
fn serve_until_stopped<F, Fut>(common: &ServeCommon, server: F) -> anyhow::Result<Outcome>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: Future<Output = std::io::Result<()>> + Send + 'static,
{
    super::check_loopback("--listen", common.listen)?;
    if common.exit_on_stdin_close {
        super::exit_when_stdin_closes();
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(common.listen)
            .await
            .with_context(|| format!("cannot listen on {}", common.listen))?;
        println!("{LISTENING}{}", listener.local_addr()?);
        let server = tokio::spawn(server(listener));
        while !crate::interrupt::interrupted() && !server.is_finished() {
            tokio::time::sleep(STOP_CHECK).await;
        }
        if server.is_finished() {
            server.await.context("the server panicked")?.context("the server stopped")?;
        }
        anyhow::Ok(Outcome::Ok)
    })
}
