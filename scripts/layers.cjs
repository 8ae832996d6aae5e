/**
 * Flux's layers, top to bottom: a higher rank may import a lower one, never the same rank
 * (another folder) or a higher one. Read by .dependency-cruiser.cjs (`npm run lint`) and by
 * scripts/layout.mjs, which writes DESIGN.md's layout table from these and the import graph.
 */
const LAYERS = [
  {
    name: 'cli',
    path: '^src/cli/',
    rank: 11,
    what: 'the `flux` command: one file per group, the only code that prints'
  },
  {
    name: 'demo',
    path: '^src/demo/',
    rank: 11,
    what: '`npm start`: the local mesh demo, nodes as child processes'
  },
  {
    name: 'control',
    path: '^src/control/',
    rank: 10,
    what: 'the local control socket: one typed map of methods (methods.ts) shared by client and server, handlers per group, the daemon'
  },
  {
    name: 'app',
    path: '^src/app/',
    rank: 9,
    what: 'use-cases: what people do (projects, content, profile), the only callers of services from outside'
  },
  {
    name: 'node',
    path: '^src/node\\.ts$',
    rank: 8,
    what: 'FluxNode, the composition root: opens store, network and services, wires them, closes them in reverse'
  },
  {
    name: 'services',
    path: '^src/services/',
    rank: 7,
    what: 'one service per capability (ReadyResource, typed events): projects, invites, writers, profile, profile projects, links, devices, hosting, recovery, peers, admission, relay offers, phonebook'
  },
  {
    name: 'swarm',
    path: '^src/swarm/',
    rank: 6,
    what: 'transport: HyperDHT and Hyperswarm, a session per connection held by the gate, typed feature channels, topics counted per owner, pairing, codes'
  },
  {
    name: 'store',
    path: '^src/store/',
    rank: 6,
    what: 'the home folder: paths, the Corestore lock, node.json read through a validated, versioned shape'
  },
  {
    name: 'project',
    path: '^src/project/',
    rank: 5,
    what: 'the project domain: its ops (codec) and apply (one handler per op type), the Project base'
  },
  {
    name: 'profile',
    path: '^src/profile/',
    rank: 5,
    what: 'the profile domain: its ops and apply, the ProfileBase, copies and hosts'
  },
  {
    name: 'phonebook',
    path: '^src/phonebook/',
    rank: 5,
    what: 'the phonebook domain: signed entries, its ops and apply, the PhonebookBase'
  },
  { name: 'policy', path: '^src/policy/', rank: 5, what: 'admission policy as a pure function' },
  { name: 'api', path: '^src/api\\.ts$', rank: 4.5, what: 'the shapes a node reports (DTOs)' },
  {
    name: 'views',
    path: '^src/views/',
    rank: 4,
    what: 'Hyperbee layouts and read queries (project, profile, phonebook): the only code that knows the keys'
  },
  {
    name: 'autobase',
    path: '^src/autobase/',
    rank: 3,
    what: 'the kit for every deterministic base: envelope and shapes, the apply runner, FluxBase, the merge rule'
  },
  {
    name: 'identity',
    path: '^src/identity/',
    rank: 2,
    what: 'keys, device proofs and bindings (writer and peer proofs), the sealed key file, seals; no network'
  },
  {
    name: 'util',
    path: '^src/util/',
    rank: 1,
    what: 'the clock, waits, mutex, durations, the typed service base'
  },
  { name: 'errors', path: '^src/errors\\.ts$', rank: 0, what: 'FluxError and its codes' }
]

module.exports = { LAYERS }
