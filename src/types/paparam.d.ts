declare module 'paparam' {
  interface Modifier {
    readonly __modifier?: true
  }
  interface Command {
    flags: Record<string, string | boolean | undefined>
    args: Record<string, string | undefined>
    rest: string[] | null
    positionals: string[]
    bailed: { output?: string; bail?: { reason?: string; err?: unknown } } | null
    parse(argv?: string[], opts?: { sync?: boolean; silent?: boolean }): Command | null
    help(...sub: string[]): string
    running: Promise<unknown> | null
  }
  type Part = Modifier | Command | ((cmd: Command) => unknown) | string
  export function command(name: string, ...parts: Part[]): Command
  export function flag(spec: string, description?: string): Modifier & { multiple(): Modifier }
  export function arg(spec: string, description?: string): Modifier
  export function rest(spec: string, description?: string): Modifier
  export function summary(text: string): Modifier
  export function description(text: string): Modifier
  export function header(text: string): Modifier
  export function footer(text: string): Modifier
  export function bail(
    fn: (info: { reason: string; err?: unknown; flag?: unknown; arg?: unknown }) => unknown
  ): Modifier
  export function hiddenCommand(name: string, ...parts: Part[]): Command
}
