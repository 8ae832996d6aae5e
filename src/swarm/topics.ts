import crypto from 'hypercore-crypto'

const NAMESPACE = Buffer.from('flux/project-topic/v1')

/**
 * The swarm topic of a project: a hash of its discovery key (itself a keyed hash of the
 * project key), so neither the key nor the discovery key used by replication appears on the DHT.
 */
export function projectTopic(discoveryKey: Buffer): Buffer {
  return crypto.hash([NAMESPACE, discoveryKey])
}

const PROFILE_NAMESPACE = Buffer.from('flux/profile-topic/v1')

/**
 * The swarm topic of a profile: a hash of its discovery public key (derived from the
 * identity, never the profile id), where its devices and hosts meet (DESIGN.md "Profiles").
 */
export function profileTopic(discoveryPublicKey: Buffer): Buffer {
  return crypto.hash([PROFILE_NAMESPACE, discoveryPublicKey])
}
