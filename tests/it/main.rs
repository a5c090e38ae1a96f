//! Every integration test in one binary, so the shared harness (`common`, `control`, `stack`,
//! `fleet_lab`, `helm`) compiles once. Each test module is one area; the stack modules need
//! Prometheus, promtool, Alertmanager and amtool and skip with a printed reason without them.

mod common;
mod control;
mod fleet_lab;
mod helm;
mod stack;

mod actions_cpu;
mod actions_disk;
mod actions_fault;
mod actions_memory;
mod actions_network;
mod actions_traffic;
mod alertmanager_host;
mod api;
mod architecture;
mod browser;
mod browser_chromium;
mod cli;
mod daemon;
mod dashboard_semantics;
mod dashboard_types;
mod events;
mod fleet;
mod fleet_prometheus;
mod fleet_scenarios;
mod helm_chart;
mod helm_daemon;
mod helm_render;
mod host_metrics;
mod listener_limits;
mod remote_write;
mod reports;
mod reports_stack;
mod scenarios;
mod security;
mod services;
mod stack_e2e;
mod stack_quiet;
mod stack_scenarios;
mod stack_static;
mod strict_input;
mod supervision;
mod verify;
mod verify_stack;
