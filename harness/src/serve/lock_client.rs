//! The hidden `stratbench lock-client` role: one client of a lock strategy in its own
//! process, answering the driver's requests on stdin (the protocol is
//! [`targets::locks::process`]). The locks family starts one per worker with
//! `client_process = true`, so that a `pause-holder` fault stops a whole client with SIGSTOP
//! — its ZooKeeper heartbeats and etcd keep-alives included — and `kill-holder` kills a real
//! process. It is a role like the others, so it lives with them here rather than in the family.

use crate::cli::LockClientArgs;
use crate::error::{Outcome, bad_input};
use targets::locks::{BuildService, LockParams, ServiceVisitor, Strategy};

/// Serves one client of `args.strategy` until stdin closes.
pub fn serve(args: &LockClientArgs) -> anyhow::Result<Outcome> {
    let table = args.params.iter().cloned().collect();
    let params = LockParams::from_table(&table).map_err(|e| bad_input(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let strategy = Strategy::from_name(&args.strategy)
        .ok_or_else(|| anyhow::anyhow!("unknown lock strategy `{}`", args.strategy))?;
    let serve = Serve { args, params: &params, runtime: &runtime };
    strategy.visit(serve).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Outcome::Ok)
}

struct Serve<'r> {
    args: &'r LockClientArgs,
    params: &'r LockParams,
    runtime: &'r tokio::runtime::Runtime,
}

impl ServiceVisitor for Serve<'_> {
    type Output = Result<(), String>;

    fn visit<S: BuildService>(self, _strategy: Strategy) -> Result<(), String> {
        let service = S::build(&self.args.servers, &self.args.namespace, self.params);
        let input = tokio::io::BufReader::new(tokio::io::stdin());
        let serve = targets::locks::process::serve(service, self.args.worker, input, tokio::io::stdout());
        self.runtime.block_on(serve).map_err(|e| e.to_string())
    }
}
