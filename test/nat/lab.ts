/**
 * A NAT lab on one machine: Linux network namespaces joined by veth pairs, with iptables NAT
 * routers, private LANs behind them and a "public" network between them. Needs root, `ip`
 * (iproute2) and `iptables`; `Lab.available()` says whether this machine can run it and why not.
 *
 * Layout (every name starts with `fluxlab-<pid>-`, so leftovers of a dead run can be swept):
 *
 *     [host ns] --veth-- [router ns: LAN bridge, NAT, WAN] --veth-- [pub ns] --veth-- [public host ns]
 *
 * - `pub` is the internet: it routes between point-to-point /30 links carved from
 *   203.0.113.0/24 (TEST-NET-3), one per router or public host, and decrements the TTL of
 *   packets coming from routers by 8, so that HyperDHT's low-TTL "open the mapping" packets die
 *   on the way, as they do across a real internet (without this, they reach the other router and
 *   its conntrack entry makes it map the host to another port).
 * - A router masquerades its LAN (100.64.N.0/24, shared address space: HyperDHT treats it as a
 *   LAN address, unlike the documentation ranges) behind its WAN address, port-preserving
 *   (`consistent`: MASQUERADE) or with randomized ports (`random`: MASQUERADE --random, a
 *   symmetric-like NAT), drops unsolicited input on its WAN (only ESTABLISHED,RELATED pass), and
 *   does not hairpin.
 * - Public hosts (the DHT bootstrap, a relay) sit directly on the internet, no NAT.
 *
 * Traffic only ever flows between namespaces the lab created; nothing leaves the machine.
 * `destroy()` kills every process started in the lab's namespaces and deletes the namespaces;
 * it runs on every path: teardown, process exit, SIGINT, SIGTERM, SIGHUP.
 */
import { execFile, spawnSync } from 'child_process'
import fs from 'fs'
import { promisify } from 'util'

const run = promisify(execFile)

export const LAB_PREFIX = 'fluxlab-'

export type NatKind = 'consistent' | 'random'

export interface Router {
  name: string
  ns: string
  kind: NatKind
  /** Its public (WAN) address, as the internet sees it. */
  wan: string
  /** The LAN it masquerades, e.g. 100.64.1.0/24. */
  lan: string
  /** Index of the WAN link (for address changes). */
  link: number
  hosts: number
}

export interface Host {
  name: string
  ns: string
  /** Its own address: a LAN address behind a router, or a public one. */
  ip: string
  router: Router | null
}

/** Whether this machine can build the lab: root, `ip netns`, iptables NAT and TTL targets. */
export async function labAvailable(): Promise<{ ok: true } | { ok: false; why: string }> {
  if (process.platform !== 'linux') return { ok: false, why: 'network namespaces need Linux' }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, why: 'needs root (network namespaces and iptables)' }
  }
  for (const [cmd, args] of [
    ['ip', ['-V']],
    ['iptables', ['-V']]
  ] as const) {
    try {
      await run(cmd, [...args])
    } catch {
      return {
        ok: false,
        why: `\`${cmd}\` is not installed (Debian: apt-get install ${cmd === 'ip' ? 'iproute2' : 'iptables'})`
      }
    }
  }
  const ns = `${LAB_PREFIX}${process.pid}-probe`
  try {
    await run('ip', ['netns', 'add', ns])
  } catch (err) {
    return { ok: false, why: `cannot create a network namespace: ${firstLine(err)}` }
  }
  try {
    const ipt = (...args: string[]): Promise<unknown> =>
      run('ip', ['netns', 'exec', ns, 'iptables', ...args])
    await ipt('-t', 'nat', '-A', 'POSTROUTING', '-o', 'lo', '-j', 'MASQUERADE', '--random')
    await ipt('-t', 'mangle', '-A', 'PREROUTING', '-i', 'lo', '-j', 'TTL', '--ttl-dec', '8')
    await ipt('-A', 'INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
  } catch (err) {
    return { ok: false, why: `iptables cannot set NAT rules in a namespace: ${firstLine(err)}` }
  } finally {
    await run('ip', ['netns', 'del', ns]).catch(() => {})
  }
  return { ok: true }
}

/**
 * Delete namespaces left by labs whose process is gone (a crash, kill -9), with whatever still
 * runs in them. Labs of other live processes, and this process's own labs, are left alone (a
 * namespace named with our pid but no lab of ours is a leftover of a process that had our pid).
 */
export function sweepLabs(): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf-8' })
  if (list.status !== 0) return []
  const removed: string[] = []
  for (const line of list.stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    const m = new RegExp(`^${LAB_PREFIX}(\\d+)-`).exec(ns)
    if (!m) continue
    const pid = Number(m[1])
    if (pid !== process.pid && alive(pid)) continue
    if ([...labs].some((lab) => ns.startsWith(`${lab.id}-`))) continue
    killIn(ns)
    spawnSync('ip', ['netns', 'del', ns])
    removed.push(ns)
  }
  return removed
}

const labs = new Set<Lab>()
let hooked = false

/** Destroy every lab of this process, synchronously (exit hooks cannot wait). */
function destroyAllSync(): void {
  for (const lab of labs) lab.destroySync()
}

function hook(): void {
  if (hooked) return
  hooked = true
  process.on('exit', destroyAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      destroyAllSync()
      process.kill(process.pid, sig)
    })
  }
}

export class Lab {
  readonly id: string
  readonly pub: string
  private readonly namespaces: string[] = []
  private readonly folders: string[] = []
  private links = 0
  private lans = 0
  private destroyed = false

  /** `name` tells labs of one process apart (letters and digits, short). */
  constructor(name = 'lab') {
    this.id = `${LAB_PREFIX}${process.pid}-${name}`
    this.pub = `${this.id}-pub`
  }

  /** Build the internet namespace. Call once, before anything else. */
  async start(): Promise<void> {
    hook()
    labs.add(this)
    sweepLabs()
    await this.addNs(this.pub)
    await this.sysctl(this.pub, 'net.ipv4.ip_forward=1')
  }

  /** A host on the internet, no NAT (a DHT bootstrap, a relay, a public server). */
  async publicHost(name: string): Promise<Host> {
    const ns = `${this.id}-${name}`
    await this.addNs(ns)
    const link = this.links++
    const { inner, outer } = await this.link(ns, `p${link}`, 'eth0', link)
    await this.ip(ns, 'route', 'add', 'default', 'via', outer)
    return { name, ns, ip: inner, router: null }
  }

  /** A home router: a LAN behind a NAT of this kind, on the internet. */
  async router(name: string, kind: NatKind): Promise<Router> {
    const ns = `${this.id}-${name}`
    await this.addNs(ns)
    const link = this.links++
    const { inner: wan, outer } = await this.link(ns, `n${link}`, 'wan', link)
    await this.ip(ns, 'route', 'add', 'default', 'via', outer)
    // the internet makes low-TTL packets from routers expire, as real hops would
    const ttl = ['-j', 'TTL', '--ttl-dec', '8']
    await this.ipt(this.pub, '-t', 'mangle', '-A', 'PREROUTING', '-i', `n${link}`, ...ttl)
    const n = ++this.lans
    const lan = `100.64.${n}.0/24`
    await this.ip(ns, 'link', 'add', 'lan', 'type', 'bridge')
    await this.ip(ns, 'addr', 'add', `100.64.${n}.1/24`, 'dev', 'lan')
    await this.ip(ns, 'link', 'set', 'lan', 'up')
    await this.sysctl(ns, 'net.ipv4.ip_forward=1')
    await this.nat(ns, kind)
    // nothing comes in from the internet unless it answers something sent from inside
    for (const chain of ['INPUT', 'FORWARD']) {
      const replies = ['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT']
      await this.ipt(ns, '-A', chain, '-i', 'wan', ...replies)
      await this.ipt(ns, '-A', chain, '-i', 'wan', '-j', 'DROP')
    }
    const router: Router = { name, ns, kind, wan, lan, link, hosts: 0 }
    return router
  }

  /** A host on a router's LAN. */
  async host(router: Router, name: string): Promise<Host> {
    const ns = `${this.id}-${name}`
    await this.addNs(ns)
    const j = ++router.hosts
    const n = router.lan.split('.')[2] as string
    const ip = `100.64.${n}.${10 + j}`
    const inRouter = `h${j}`
    await this.ip(router.ns, 'link', 'add', inRouter, 'type', 'veth', 'peer', 'name', 'eth0')
    await this.ip(router.ns, 'link', 'set', 'eth0', 'netns', ns)
    await this.ip(router.ns, 'link', 'set', inRouter, 'master', 'lan')
    await this.ip(router.ns, 'link', 'set', inRouter, 'up')
    await this.ip(ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0')
    await this.ip(ns, 'link', 'set', 'eth0', 'up')
    await this.ip(ns, 'route', 'add', 'default', 'via', `100.64.${n}.1`)
    return { name, ns, ip, router }
  }

  /** Forget every mapping the router's NAT holds (as a router reboot or a timeout would). */
  async flushMappings(router: Router): Promise<void> {
    await run('ip', ['netns', 'exec', router.ns, 'conntrack', '-F']).catch(async (err) => {
      // without conntrack-tools: reloading the NAT rule drops the router's mappings too
      if (!/ENOENT|No such file|not found/.test(firstLine(err))) throw err
      await this.ipt(router.ns, '-t', 'nat', '-F', 'POSTROUTING')
      await this.nat(router.ns, router.kind)
    })
  }

  /**
   * Give the router another public address (as an ISP does): the old mappings die with the
   * old address (MASQUERADE forgets them when the address goes).
   */
  async renumber(router: Router): Promise<string> {
    const link = this.links++
    const [outer, inner] = [addr(link, 1), addr(link, 2)]
    await this.ip(this.pub, 'addr', 'add', `${outer}/30`, 'dev', `n${router.link}`)
    await this.ip(router.ns, 'addr', 'flush', 'dev', 'wan')
    await this.ip(router.ns, 'addr', 'add', `${inner}/30`, 'dev', 'wan')
    await this.ip(router.ns, 'route', 'replace', 'default', 'via', outer)
    await run('ip', ['netns', 'exec', router.ns, 'conntrack', '-F']).catch(() => {})
    router.wan = inner
    return inner
  }

  /** A folder (the nodes' homes) removed with the lab, whatever path the process ends by. */
  removeWithLab(folder: string): void {
    this.folders.push(folder)
  }

  /** Run a command in a namespace; resolves with its stdout. */
  async exec(ns: string, cmd: string, ...args: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', ns, cmd, ...args])
    return stdout
  }

  /** The argv that runs `cmd args...` inside a namespace (for spawn). */
  argv(host: Host, cmd: string, ...args: string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', host.ns, cmd, ...args]]
  }

  /** Kill everything running in the lab and delete its namespaces. */
  async destroy(): Promise<void> {
    this.destroySync()
  }

  /** The same, synchronously (for exit hooks). Safe to call more than once. */
  destroySync(): void {
    if (this.destroyed) return
    this.destroyed = true
    labs.delete(this)
    for (const ns of [...this.namespaces].reverse()) killIn(ns)
    for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns])
    this.namespaces.length = 0
    for (const folder of this.folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true })
  }

  private async addNs(ns: string): Promise<void> {
    if (this.destroyed) throw new Error('the lab is destroyed')
    await run('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
    await this.ip(ns, 'link', 'set', 'lo', 'up')
  }

  /** A /30 link from the internet to `ns`: returns the far (inner) and internet (outer) sides. */
  private async link(
    ns: string,
    outerName: string,
    innerName: string,
    link: number
  ): Promise<{ inner: string; outer: string }> {
    if (link > 62) throw new Error('the lab has no public link left')
    const [outer, inner] = [addr(link, 1), addr(link, 2)]
    await this.ip(this.pub, 'link', 'add', outerName, 'type', 'veth', 'peer', 'name', innerName)
    await this.ip(this.pub, 'link', 'set', innerName, 'netns', ns)
    await this.ip(this.pub, 'addr', 'add', `${outer}/30`, 'dev', outerName)
    await this.ip(this.pub, 'link', 'set', outerName, 'up')
    await this.ip(ns, 'addr', 'add', `${inner}/30`, 'dev', innerName)
    await this.ip(ns, 'link', 'set', innerName, 'up')
    return { inner, outer }
  }

  private async nat(ns: string, kind: NatKind): Promise<void> {
    const random = kind === 'random' ? ['--random'] : []
    await this.ipt(ns, '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE', ...random)
  }

  private async ip(ns: string, ...args: string[]): Promise<void> {
    await run('ip', ['-n', ns, ...args])
  }

  private async ipt(ns: string, ...args: string[]): Promise<void> {
    await run('ip', ['netns', 'exec', ns, 'iptables', ...args])
  }

  private async sysctl(ns: string, setting: string): Promise<void> {
    await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', setting])
  }
}

/** Address `end` (1 or 2) of public /30 link number `link` in 203.0.113.0/24. */
function addr(link: number, end: 1 | 2): string {
  return `203.0.113.${link * 4 + end}`
}

function killIn(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf-8' })
  for (const pid of (pids.stdout ?? '').split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {}
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string }
  return (e.stderr || e.message || String(err)).trim().split('\n')[0] ?? ''
}
