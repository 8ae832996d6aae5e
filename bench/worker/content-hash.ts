/** The same digest as Flux's ProjectView.stateHash, for views that are not Flux projects. */
import { createHash } from 'crypto'
import type Hyperbee from 'hyperbee'

export async function beeHash(bee: Hyperbee): Promise<string> {
  const h = createHash('sha256')
  for await (const e of bee.createReadStream()) {
    h.update(e.key + '\u0000' + JSON.stringify(e.value) + '\u0000')
  }
  return h.digest('hex')
}
