/**
 * A phonebook: an Autobase on the base kit whose Hyperbee view holds one signed entry per node
 * (DESIGN.md "Phonebooks and auto-connect"). Not encrypted: what it holds is public by design
 * (peer ids and hints), and the profile id and project keys appear only as salted hashes.
 */
import b4a from 'b4a'
import type Corestore from 'corestore'
import { FluxBase } from '../autobase/base.js'
import type { Clock } from '../util/clock.js'
import { PhonebookView } from '../views/phonebook.js'
import { viewDigest } from '../views/project-queries.js'
import { createPhonebookApply } from './apply.js'
import {
  phonebookCodec,
  saltedHash,
  signEntry,
  type PhonebookLimits,
  type PhonebookOp,
  type SignedEntry
} from './ops.js'

export interface PhonebookBaseOptions {
  /** The phonebook key, or null to create one (this node becomes its bootstrap and indexer). */
  key: Buffer | null
  clock?: Clock
  wakeup?: unknown
  limits?: PhonebookLimits
}

/** What a node says about itself in an entry (before hashing and signing). */
export interface SelfDescription {
  keyPair: { publicKey: Buffer; secretKey: Buffer }
  profile: Buffer | null
  hints: string[]
  projects: Buffer[]
  removed?: boolean
}

export class PhonebookBase extends FluxBase<PhonebookOp> {
  readonly view: PhonebookView

  /** `store` should be a namespace of its own: Autobase takes the store's 'local' core. */
  constructor(store: Corestore, opts: PhonebookBaseOptions) {
    super(store, {
      key: opts.key,
      encryptionKey: null,
      codec: phonebookCodec,
      apply: (ids) =>
        createPhonebookApply({
          get bootstrap() {
            return ids.bootstrap
          },
          ...(opts.limits ? { limits: opts.limits } : {})
        }),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.wakeup ? { wakeup: opts.wakeup } : {}),
      messages: {
        notWritable: 'this node is not a writer of the phonebook',
        waitWritable: 'not yet a writer of the phonebook: no member added us',
        closing: 'the phonebook is closing'
      }
    })
    this.view = new PhonebookView(this.bee)
  }

  /** This node's entry, signed for this phonebook at the base's clock. */
  describe(self: SelfDescription): SignedEntry {
    const salt = this.key
    return signEntry(
      salt,
      {
        peer: b4a.toString(self.keyPair.publicKey, 'hex'),
        profile: self.profile === null ? null : saltedHash(self.profile, salt),
        hints: self.hints,
        projects: self.projects.map((p) => saltedHash(p, salt)).sort(),
        seen: this.clock.now(),
        removed: self.removed === true
      },
      self.keyPair.secretKey
    )
  }

  /** A digest of the view's keys and values: the same on every peer that applied the same ops. */
  hash(): Promise<string> {
    return viewDigest(this.bee)
  }
}
