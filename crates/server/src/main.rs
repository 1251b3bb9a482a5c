//! `helpdesk`: settings -> logging -> command.

use clap::Parser;
use helpdesk_server::{cli, config::Settings};

#[tokio::main]
async fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = cli::Cli::parse();
    let result = match Settings::from_env() {
        Ok(settings) => cli::run(args, settings).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        log::error!("{e:#}");
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
