/**
 * Things a test opened (subscribers, buses, proxies), closed after each test in the reverse order they were
 * opened, whether the test passed or not: `const defer = useCleanup(); ... defer(() => sub.disconnect());`.
 */
export function useCleanup(): (close: () => unknown) => void {
  const pending: (() => unknown)[] = [];
  afterEach(async () => {
    for (const close of pending.splice(0).reverse()) await close();
  });
  return (close) => void pending.push(close);
}
