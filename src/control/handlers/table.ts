/** How a group of control methods is written: each method parses its parameters, then runs. */
import type { FluxApp } from '../../app/index.js'
import type { MethodName, ParamsOf, ResultOf } from '../methods.js'
import type { Params } from '../params.js'
import type { Progress } from '../../api.js'

export interface CallContext {
  app: FluxApp
  /** Progress lines for the caller (long work: joining, linking, recovering). */
  progress: (p: Progress) => void
}

export interface Entry<M extends MethodName> {
  /** The method's parameters, checked (INVALID_INPUT otherwise). */
  parse(p: Params): ParamsOf<M>
  run(params: ParamsOf<M>, ctx: CallContext): Promise<ResultOf<M>>
}

/** A group of methods: one entry per name. */
export type Table<K extends MethodName> = { [M in K]: Entry<M> }

/** A method without parameters. */
export function none<M extends MethodName>(
  run: (ctx: CallContext) => Promise<ResultOf<M>>
): Entry<M> {
  return { parse: () => ({}) as ParamsOf<M>, run: (_p, ctx) => run(ctx) }
}
