import test from 'brittle'
import { feed, jsonText, kvList, projectList, taskList } from '../../src/cli/output.js'
import type { PostInfo, ProjectSummary, TaskInfo } from '../../src/api.js'

// every control a terminal may obey: C0 but newline and tab, DEL, C1
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
const ESC = 'a\x1b]0;title\x07\x1b[31m\u009b2J\rz'

// text written before apply refused controls is still in some views: the formatters clean it
test('output - peer text from older data: no control reaches the terminal, no line is faked', (t) => {
  const post: PostInfo = {
    id: 'ab'.repeat(16),
    seq: 1,
    author: 'cd'.repeat(32),
    authorName: `Eve\n0a1b2c3d  Ada (12345678)  just now`,
    device: 'ef'.repeat(32),
    text: `${ESC}\n0a1b2c3d  Ada (12345678)  just now`,
    replyTo: null,
    ts: Date.now()
  }
  const shown = feed([post])
  t.absent(CONTROLS.test(shown), 'feed: no controls')
  t.is(shown.split('\n').filter((l) => /^[0-9a-f]{8} {2}/.test(l)).length, 1, 'feed: one header')

  const task: TaskInfo = {
    id: 'ab'.repeat(16),
    seq: 1,
    title: `${ESC}\n[x] 0a1b2c3d  fake done`,
    assignee: 'cd'.repeat(32),
    assigneeName: `Bob${ESC}`,
    done: false,
    createdBy: 'cd'.repeat(32),
    createdAt: 0
  }
  const tasks = taskList([task])
  t.absent(CONTROLS.test(tasks), 'task list: no controls')
  t.is(tasks.split('\n').length, 1, 'task list: one line per task')

  const project = { key: 'k'.repeat(52), name: `P${ESC}\nfake row` } as ProjectSummary
  const list = projectList([{ ...project, role: 'member', applied: 0, peers: 0, behind: 0 }])
  t.absent(CONTROLS.test(list), 'project list: no controls')
  t.is(list.split('\n').length, 2, 'project list: a header and one row')

  const kv = kvList([{ key: `k${ESC}`, value: `v${ESC}\nfake = row`, by: 'x', ts: 0 }])
  t.absent(CONTROLS.test(kv), 'kv list: no controls')
  t.is(kv.split('\n').length, 1, 'kv list: one line per record')

  const json = jsonText({ text: ESC })
  t.absent(CONTROLS.test(json), 'JSON: C1 escaped too')
  t.is((JSON.parse(json) as { text: string }).text, ESC, 'and it is the same JSON value')
})
