/**
 * The reference service's data access: the seed's `operations` and `audit_logs` tables and the
 * `operation_stats` materialized view (runtime/migrations), through the runtime's managed pool.
 * Every write is audited in the same transaction, so an operation never exists without its log.
 */
import type { ManagedPool } from "@uaip/runtime/db";

export interface Operation {
  id: string;
  type: string;
  status: string;
  payload: unknown;
  createdAt: string;
}

export interface OperationStat {
  hour: string;
  status: string;
  count: number;
  avgDuration: number | null;
}

/** The statuses an operation moves through; `pending` on creation. */
export const OPERATION_STATUSES = ["pending", "running", "succeeded", "failed"] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

interface OperationRow {
  id: string;
  status: string;
  created_at: Date;
  payload: { type: string; payload: unknown };
}

const toOperation = (row: OperationRow): Operation => ({
  id: String(row.id),
  type: row.payload.type,
  status: row.status,
  payload: row.payload.payload,
  createdAt: row.created_at.toISOString(),
});

export class OperationsStore {
  constructor(private readonly pool: ManagedPool) {}

  /**
   * Inserts a pending operation and its audit entry in one transaction. With an `idempotencyKey`, a
   * second create with the same key (a retry; even one racing the first) inserts nothing and returns
   * the first row (`replayed: true`), saying whether the retry carried the same body (`sameBody`).
   */
  async create(
    input: { type: string; payload: unknown },
    actor: string,
    idempotencyKey?: string,
  ): Promise<{ operation: Operation; replayed: boolean; sameBody: boolean }> {
    const body = { type: input.type, payload: input.payload };
    return this.pool.withClient(async (client) => {
      await client.query("BEGIN");
      try {
        // ON CONFLICT waits for a racing insert of the same key to commit, then skips: one row per key.
        const { rows } = await client.query<OperationRow>(
          `INSERT INTO operations (status, payload, idempotency_key) VALUES ('pending', $1, $2)
           ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
           RETURNING id, status, created_at, payload`,
          [body, idempotencyKey ?? null],
        );
        if (!rows[0]) {
          const first = await client.query<OperationRow & { same: boolean }>(
            "SELECT id, status, created_at, payload, payload = $2::jsonb AS same FROM operations WHERE idempotency_key = $1",
            [idempotencyKey, JSON.stringify(body)],
          );
          await client.query("COMMIT");
          return { operation: toOperation(first.rows[0]!), replayed: true, sameBody: first.rows[0]!.same };
        }
        const operation = toOperation(rows[0]);
        await client.query("INSERT INTO audit_logs (user_id, action, details) VALUES ($1, 'operation.create', $2)", [
          actor,
          { id: operation.id, type: operation.type },
        ]);
        await client.query("COMMIT");
        return { operation, replayed: false, sameBody: true };
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }

  /** One operation, or undefined when there is none with that id. */
  async get(id: string): Promise<Operation | undefined> {
    const { rows } = await this.pool.query<OperationRow>("SELECT id, status, created_at, payload FROM operations WHERE id = $1", [
      id,
    ]);
    return rows[0] ? toOperation(rows[0]) : undefined;
  }

  /**
   * Moves an operation to `status`, recording how long it has run when it finishes, and audits the
   * change. Undefined when there is no such operation.
   */
  async setStatus(id: string, status: OperationStatus, actor: string): Promise<Operation | undefined> {
    return this.pool.withClient(async (client) => {
      await client.query("BEGIN");
      try {
        const { rows } = await client.query<OperationRow>(
          `UPDATE operations SET status = $2,
             duration = CASE WHEN $2 IN ('succeeded', 'failed') THEN EXTRACT(EPOCH FROM now() - created_at) * 1000 ELSE duration END
           WHERE id = $1 RETURNING id, status, created_at, payload`,
          [id, status],
        );
        if (rows[0]) {
          await client.query("INSERT INTO audit_logs (user_id, action, details) VALUES ($1, 'operation.status', $2)", [
            actor,
            { id, status },
          ]);
        }
        await client.query("COMMIT");
        return rows[0] ? toOperation(rows[0]) : undefined;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    });
  }

  /** The seed's analytics query, read from the materialized view the StatsRefresher keeps fresh. */
  async stats(): Promise<OperationStat[]> {
    const { rows } = await this.pool.query<{ hour: Date; status: string; count: string; avg_duration: number | null }>(
      "SELECT hour, status, count, avg_duration FROM operation_stats ORDER BY hour DESC, status LIMIT 500",
    );
    return rows.map((r) => ({
      hour: r.hour.toISOString(),
      status: r.status,
      count: Number(r.count),
      avgDuration: r.avg_duration,
    }));
  }
}
