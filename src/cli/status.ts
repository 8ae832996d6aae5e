/** `flux status` and `flux stop`. */
import { summary, description } from 'paparam'
import { callNode, homeOf, verb } from './command.js'
import { nodeStatus } from './format-node.js'
import { ControlClient } from '../control/client.js'
import { within } from './signals.js'

/** A clean stop closes every project and the swarm: usually well under a second. */
const STOP_TIMEOUT = 30_000

export const status = verb(
  'status',
  [summary('Show the node: id, network, peers, projects')],
  async (inv, out) => {
    out.result(await callNode(inv, 'status', {}), nodeStatus)
  }
)

export const stop = verb(
  'stop',
  [
    summary('Stop the running node'),
    description('Returns once the node has closed its projects and released its home.')
  ],
  async (inv, out) => {
    const home = homeOf(inv)
    const client = await ControlClient.connect(home)
    try {
      await client.call('node.stop', {})
      // the node drops our connection only once it has closed: then its home is free
      await within(client.closed, STOP_TIMEOUT, 'stopping the node')
    } finally {
      client.close()
    }
    out.result({ stopped: true, home }, () => `stopped the node for ${home}`)
  }
)
