import test from 'brittle'
import { mesh, until, type TestNode } from '../helpers/index.js'
import { encodeKey } from '../../src/identity/keys.js'
import type { PeerInfo } from '../../src/api.js'

async function peerOf(viewer: TestNode, other: TestNode, ready: (p: PeerInfo) => boolean) {
  return until(
    viewer.node,
    async () => (await viewer.app.peers()).find((p) => p.id === other.node.peerId && ready(p)),
    20_000,
    `${other.node.peerId.slice(0, 8)} in the peer list`
  )
}

test('peers - each connection says which profile and device it is; names come from shared projects, else the claim', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const b = await m.create({ name: 'Bo' })
  const host = await m.create({ noProfile: true })
  const stranger = await m.create({ name: 'Cy' })
  const { key } = await a.app.projects.create({ name: 'p' })
  await b.app.projects.join((await a.app.projects.invite(key)).code)
  await host.app.projects.join(key) // holds it by key: connected, no profile
  await stranger.app.projects.join(key) // a profile, but not a member

  const bo = await peerOf(a, b, (p) => p.profile?.nameFrom === 'project')
  t.is(bo.profile?.id, encodeKey(b.node.profile.keys!.profileId), "B's profile id")
  t.is(bo.profile?.device, encodeKey(b.node.profile.keys!.device.publicKey), "B's device")
  t.is(bo.profile?.name, 'Bo', 'the name the project agreed on')
  t.is(bo.profile?.revoked, false)
  t.is(bo.state, 'admitted')

  const hosted = await peerOf(a, host, () => true)
  t.is(hosted.profile, null, 'a node without a profile is unknown')

  const cy = await peerOf(a, stranger, (p) => p.profile !== null)
  t.is(cy.profile?.id, encodeKey(stranger.node.profile.keys!.profileId))
  t.is(cy.profile?.name, 'Cy', 'a profile we share no membership with: its own claim')
  t.is(cy.profile?.nameFrom, 'peer', 'marked as a claim')

  // both sides see each other
  const ada = await peerOf(b, a, (p) => p.profile?.nameFrom === 'project')
  t.is(ada.profile?.name, 'Ada')
})

test('peers - a device revoked in the profile shows as revoked to its own profile', async (t) => {
  const m = await mesh(t)
  const a = await m.create({ name: 'Ada' })
  const { key } = await a.app.projects.create({ name: 'p' })
  const laptop = await m.create({ noProfile: true })
  await laptop.node.links.join((await a.node.links.create()).code, {
    passphrase: null,
    timeout: 30_000
  })
  const before = await peerOf(a, laptop, (p) => p.profile !== null)
  t.is(before.profile?.id, encodeKey(a.node.profile.keys!.profileId), 'a device of our profile')
  t.is(before.profile?.revoked, false)
  t.is(before.profile?.nameFrom, 'profile', 'named as our own profile')
  t.ok((await laptop.app.projects.show(key)).writable, 'it writes to our project')

  await a.node.devices.revoke(encodeKey(laptop.node.profile.keys!.device.publicKey))
  const after = await peerOf(a, laptop, (p) => p.profile?.revoked === true)
  t.is(after.profile?.device, encodeKey(laptop.node.profile.keys!.device.publicKey))
})
