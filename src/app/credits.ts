/**
 * Use-cases for credits and achievements: the totals of a project (with one hash to compare
 * with other peers), the evidence behind a member's totals, the achievements unlocked.
 */
import crypto from 'crypto'
import type { FluxNode } from '../node.js'
import type { Project } from '../project/project.js'
import { ACHIEVEMENTS, epochOf, fold } from '../project/credits.js'
import type { AchievementInfo, CreditExplanation, CreditRow, ProjectCredits } from '../api.js'
import type { AchievementRecord, CreditRecord, MemberRecord } from '../views/project.js'
import { requireReadable } from './guards.js'
import { z } from './describe.js'
import type { ContentActions } from './content.js'

export class CreditsActions {
  constructor(
    private readonly node: FluxNode,
    private readonly content: ContentActions
  ) {}

  /** Every member's credits in one project, or in every project this node can read. */
  async credits(ref?: string): Promise<ProjectCredits[]> {
    const projects = ref === undefined ? await this.readable() : [await this.resolve(ref)]
    const out: ProjectCredits[] = []
    for (const p of projects) out.push(await this.projectCredits(p))
    return out
  }

  async achievements(ref?: string, member?: string): Promise<AchievementInfo[]> {
    const projects = ref === undefined ? await this.readable() : [await this.resolve(ref)]
    const out: AchievementInfo[] = []
    for (const p of projects) {
      const profile = member === undefined ? undefined : await this.content.resolveMember(p, member)
      const names = await this.names(p)
      for (const a of await p.view.achievements(profile)) out.push(achievementInfo(p, a, names))
    }
    return out
  }

  /** The evidence behind a member's credits in a project. */
  async explain(ref: string, member: string): Promise<CreditExplanation> {
    const project = await this.resolve(ref)
    const profile = await this.content.resolveMember(project, member)
    const names = await this.names(project)
    const report = await this.projectCredits(project, names)
    const totals = report.members.find((m) => m.profile === z(profile)) ?? emptyRow(profile, names)
    const evidence = (await project.view.evidence(profile)).map((e) => ({
      kind: e.kind,
      signer: z(e.signer),
      signerName: names.get(e.signer) ?? null,
      epoch: e.epoch,
      op: e.op,
      counted: e.counted
    }))
    const achievements = (await project.view.achievements(profile)).map((a) =>
      achievementInfo(project, a, names)
    )
    return {
      project: z(toHexKey(project)),
      profile: z(profile),
      name: names.get(profile) ?? null,
      totals,
      evidence,
      achievements
    }
  }

  private async projectCredits(
    project: Project,
    known?: Map<string, string | null>
  ): Promise<ProjectCredits> {
    const info = await project.view.project()
    const decay = info?.decay?.value ?? 0
    const seen = Object.values((await project.view.system()).seen ?? {})
    const epoch = epochOf(seen.length === 0 ? 0 : Math.max(...seen))
    const names = known ?? (await this.names(project))
    const achieved = new Map<string, number>()
    for (const a of await project.view.achievements()) {
      achieved.set(a.profile, (achieved.get(a.profile) ?? 0) + 1)
    }
    // by code point, not localeCompare: the hash below must not depend on the node's locale
    const records = (await project.view.credits()).sort((a, b) =>
      a.profile < b.profile ? -1 : a.profile > b.profile ? 1 : 0
    )
    const members = records.map((r) => row(r, decay, epoch, names, achieved.get(r.profile) ?? 0))
    const canonical = JSON.stringify({ epoch, decay, members })
    return {
      key: z(toHexKey(project)),
      name: info?.name.value ?? null,
      epoch,
      decay,
      hash: crypto.createHash('sha256').update(canonical).digest('hex'),
      members
    }
  }

  private async names(project: Project): Promise<Map<string, string | null>> {
    const names = new Map<string, string | null>()
    for (const m of await project.view.members()) names.set(m.profile, nameOf(m))
    return names
  }

  private async resolve(ref: string): Promise<Project> {
    const project = await this.node.projects.resolve(ref)
    await requireReadable(project)
    return project
  }

  private async readable(): Promise<Project[]> {
    const out: Project[] = []
    for (const p of this.node.projects.list()) if (await p.readable()) out.push(p)
    return out
  }
}

function row(
  r: CreditRecord,
  decay: number,
  epoch: number,
  names: Map<string, string | null>,
  achievements: number
): CreditRow {
  return {
    profile: z(r.profile),
    name: names.get(r.profile) ?? null,
    ...fold(r, decay, epoch),
    achievements
  }
}

function emptyRow(profile: string, names: Map<string, string | null>): CreditRow {
  return {
    profile: z(profile),
    name: names.get(profile) ?? null,
    ...{ contributions: 0, uptime: 0, hosting: 0, support: 0, total: 0, achievements: 0 }
  }
}

function achievementInfo(
  project: Project,
  a: AchievementRecord,
  names: Map<string, string | null>
): AchievementInfo {
  return {
    project: z(toHexKey(project)),
    profile: z(a.profile),
    name: names.get(a.profile) ?? null,
    id: a.id,
    title: ACHIEVEMENTS.find((x) => x.id === a.id)?.title ?? a.id,
    op: a.op,
    ts: a.ts,
    value: a.value
  }
}

function nameOf(m: MemberRecord): string | null {
  return m.name?.value ?? null
}

function toHexKey(project: Project): string {
  return project.key.toString('hex')
}
