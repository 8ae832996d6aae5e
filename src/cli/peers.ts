/** `flux peers`: the peers connected to the node right now. */
import { summary } from 'paparam'
import { callNode, verb } from './command.js'
import { peerList } from './format-node.js'

export const peers = verb('peers', [summary('List connected peers')], async (inv, out) => {
  out.result(await callNode(inv, 'peers', {}), peerList)
})
