declare module 'brittle' {
  interface Test {
    plan(n: number): void
    pass(message?: string): void
    fail(message?: string): void
    ok(value: unknown, message?: string): void
    absent(value: unknown, message?: string): void
    is(actual: unknown, expected: unknown, message?: string): void
    not(actual: unknown, expected: unknown, message?: string): void
    alike(actual: unknown, expected: unknown, message?: string): void
    unlike(actual: unknown, expected: unknown, message?: string): void
    exception(
      fn: (() => unknown) | Promise<unknown>,
      expected?: RegExp | Error,
      message?: string
    ): Promise<void>
    execution(fn: (() => unknown) | Promise<unknown>, message?: string): Promise<void>
    comment(...args: unknown[]): void
    teardown(fn: () => unknown, opts?: { order?: number; force?: boolean }): void
    tmp(): Promise<string>
    timeout(ms: number): void
    test(name: string, fn: (t: Test) => unknown): Promise<void>
  }
  interface TestFn {
    (name: string, fn: (t: Test) => unknown): Promise<void>
    (
      name: string,
      opts: { timeout?: number; skip?: boolean },
      fn: (t: Test) => unknown
    ): Promise<void>
    skip(name: string, fn: (t: Test) => unknown): Promise<void>
    solo(name: string, fn: (t: Test) => unknown): Promise<void>
    configure(opts: { timeout?: number; serial?: boolean; bail?: boolean }): void
  }
  const test: TestFn
  namespace test {
    export type { Test }
  }
  export = test
}
