// Prints the plain "N passed, N failed[, N skipped]" line CI reads, from jest's real results.
// Crashed suites (syntax errors, failing imports) count as failed. Deferred to process exit so it
// is the last line even though jest's built-in summary reporter runs after custom reporters.
class PlainSummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = PlainSummaryReporter;
