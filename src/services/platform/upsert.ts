/** What one row of a bulk upsert or import did. */
export enum UpsertOutcome {
  CREATED = 'created',
  UPDATED = 'updated',
  UNCHANGED = 'unchanged',
  FAILED = 'failed',
}

/** The counts of a bulk upsert's outcomes. */
export function countOutcomes(
  rows: Array<{ outcome: UpsertOutcome }>,
): Record<'created' | 'updated' | 'unchanged' | 'failed', number> {
  const count = (outcome: UpsertOutcome) => rows.filter((row) => row.outcome === outcome).length;
  return {
    created: count(UpsertOutcome.CREATED),
    updated: count(UpsertOutcome.UPDATED),
    unchanged: count(UpsertOutcome.UNCHANGED),
    failed: count(UpsertOutcome.FAILED),
  };
}
