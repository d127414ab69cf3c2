"""The scheduler behind `trends run`: daily harvests, the monthly digest, and who may run them.

- `cron`: parse the cron settings into APScheduler triggers (5 fields, or 6 with seconds);
- `jobs`: the job functions, referenced as "module:function" strings by the persistent job store;
  each fetches the running app's context from `context` (never from pickled state);
- `leases`: a named lease row with expiry and the `LeaderElector` that holds "scheduler", so that of
  several replicas exactly one runs scheduled jobs, plus the SQLite single-instance lock;
- `runtime`: `SchedulerRuntime`, which ties the lease, the APScheduler instance and the jobs together
  and shuts them down cleanly;
- `approval`: the `ApprovalNotifier` port adapters implement when publishing needs an admin's approval;
- `status`: what `trends status` shows; `logs`: one structured line per event, secrets redacted.

Nothing here imports a chat platform: the posters and notifiers are handed in by `trends run`.
"""

# The job store's table. Defined here, not in `runtime`, so that `status` reads it without loading
# APScheduler and the jobs (harvest, digest) behind the runtime.
JOBS_TABLE = "apscheduler_jobs"
# The lease the scheduler leader holds (bot.scheduler.leases); here for the same reason.
SCHEDULER_LEASE = "scheduler"
