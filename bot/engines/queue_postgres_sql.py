"""The SQL of queue_postgres: our tables beside procrastinate's, and the statements on both.

Parameters are psycopg's `%(name)s`. `procrastinate_jobs` and its functions are procrastinate's
(schema.sql of procrastinate 3.10.0); `gitops_bot_*` are ours.
"""

# No foreign key to procrastinate_jobs: pruning its old jobs must not forget a delivery id.
OWN_SCHEMA = """
CREATE TABLE IF NOT EXISTS gitops_bot_jobs (
    delivery_id text PRIMARY KEY,
    job_id bigint UNIQUE,  -- procrastinate_jobs.id, also the order in which jobs were accepted
    pr_key text NOT NULL,
    forge text NOT NULL,
    repo text NOT NULL,
    number integer NOT NULL,
    installation text NOT NULL,
    action text NOT NULL,
    event text NOT NULL,
    head_sha text NOT NULL,
    requested_by text NOT NULL,
    body bytea NOT NULL,
    received_at double precision NOT NULL,
    worker text,
    token text UNIQUE,
    lease_expires_at timestamptz,
    error text
);
CREATE INDEX IF NOT EXISTS gitops_bot_jobs_by_key ON gitops_bot_jobs (pr_key, job_id);
CREATE TABLE IF NOT EXISTS gitops_bot_results (
    pr_key text NOT NULL,
    head_sha text NOT NULL,
    conclusion text NOT NULL,
    fingerprint text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pr_key, head_sha)
);
"""

INSERT = """
INSERT INTO gitops_bot_jobs (delivery_id, pr_key, forge, repo, number, installation, action,
                             event, head_sha, requested_by, body, received_at)
VALUES (%(delivery_id)s, %(pr_key)s, %(forge)s, %(repo)s, %(number)s, %(installation)s,
        %(action)s, %(event)s, %(head_sha)s, %(requested_by)s, %(body)s, %(received_at)s)
ON CONFLICT (delivery_id) DO NOTHING
RETURNING delivery_id
"""

# Leases that ran out: their token dies here, so a late ack/fail/extend changes nothing.
EXPIRE = """
UPDATE gitops_bot_jobs AS g SET worker = NULL, token = NULL, lease_expires_at = NULL,
                                error = %(error)s
FROM procrastinate_jobs AS p
WHERE p.id = g.job_id AND g.token IS NOT NULL AND g.lease_expires_at <= now()
RETURNING g.job_id, p.attempts
"""

# As in queue_sqlite: the newest waiting job of the PR waiting longest, among PRs with nothing
# running and whose newest job is due.
PICK = """
SELECT p.id, p.lock FROM procrastinate_jobs AS p
WHERE p.queue_name = %(queue)s AND p.status = 'todo'
  AND (p.scheduled_at IS NULL OR p.scheduled_at <= now())
  AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS x WHERE x.lock = p.lock
                  AND x.queue_name = p.queue_name AND x.status = 'todo' AND x.id > p.id)
  AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS r WHERE r.lock = p.lock
                  AND r.status = 'doing')
ORDER BY (SELECT min(o.id) FROM procrastinate_jobs AS o WHERE o.lock = p.lock
          AND o.queue_name = p.queue_name AND o.status = 'todo')
LIMIT 1
"""

SUPERSEDE = """
WITH older AS (
    SELECT id, procrastinate_cancel_job_v1(id, false, false) FROM procrastinate_jobs
    WHERE lock = %(lock)s AND queue_name = %(queue)s AND status = 'todo' AND id < %(id)s
)
UPDATE gitops_bot_jobs SET error = 'superseded by delivery ' || %(delivery_id)s
WHERE job_id IN (SELECT id FROM older)
"""

LEASE = """
UPDATE gitops_bot_jobs SET worker = %(worker)s, token = %(token)s, error = NULL,
       lease_expires_at = now() + make_interval(secs => %(lease)s)
WHERE job_id = %(id)s
RETURNING *, extract(epoch FROM lease_expires_at)::float8 AS lease_epoch
"""

RELEASE = """
UPDATE gitops_bot_jobs AS g SET worker = NULL, token = NULL, lease_expires_at = NULL,
                                error = coalesce(%(error)s, g.error)
FROM procrastinate_jobs AS p
WHERE p.id = g.job_id AND g.delivery_id = %(delivery_id)s AND g.token = %(token)s
RETURNING g.job_id, p.attempts, now() + make_interval(secs => %(retry)s) AS retry_at
"""

IS_CURRENT = """
SELECT EXISTS (SELECT 1 FROM gitops_bot_jobs WHERE delivery_id = %(delivery_id)s)
   AND NOT EXISTS (
       SELECT 1 FROM gitops_bot_jobs AS me
       JOIN gitops_bot_jobs AS later ON later.pr_key = me.pr_key AND later.job_id > me.job_id
       WHERE me.delivery_id = %(delivery_id)s
         AND (later.action = %(cancel)s OR (later.head_sha <> '' AND later.head_sha <> me.head_sha))
   ) AS current
"""
