/**
 * Where a grid's results go: `<out>.json` (the whole record) and a section of `<out>.md` between two marker
 * comments, replaced in place on every run, so a hand-written file (docs/results.md) keeps everything else.
 * Both pass through Prettier, as `npm run lint` checks them.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** `docs/results`, `docs/results.md` and `docs/results.json` all name the pair docs/results.{md,json}. */
export const outPaths = (out: string) => {
  const base = out.replace(/\.(md|json)$/, '');
  return { md: `${base}.md`, json: `${base}.json` };
};

const markers = (id: string) => ({
  start: `<!-- ${id}: start (written by the CLI; edits between these two lines are replaced) -->`,
  end: `<!-- ${id}: end -->`,
});

/** The file's text with the section `id` replaced by `section` (appended when the file has none). */
export function spliceSection(text: string, id: string, section: string): string {
  const { start, end } = markers(id);
  const block = `${start}\n\n${section.trim()}\n\n${end}\n`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from >= 0 && to > from)
    return text.slice(0, from) + block + text.slice(to + end.length).replace(/^\n/, '');
  return text.trim() ? `${text.trimEnd()}\n\n${block}` : block;
}

/** Text as Prettier formats it for `path` (the repository's settings). */
export async function pretty(text: string, path: string, parser: 'markdown' | 'json'): Promise<string> {
  // Prettier is a development dependency, loaded only here: the CLI runs without it everywhere else.
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(path)) ?? {};
  return prettier.format(text, { ...config, parser });
}

export async function writeReport(
  out: string,
  sectionId: string,
  markdown: string,
  record: unknown,
): Promise<{ md: string; json: string }> {
  const paths = outPaths(out);
  await mkdir(dirname(paths.md), { recursive: true });
  const old = await readFile(paths.md, 'utf8').catch(() => '');
  await writeFile(paths.md, await pretty(spliceSection(old, sectionId, markdown), paths.md, 'markdown'));
  await writeFile(paths.json, await pretty(JSON.stringify(record), paths.json, 'json'));
  return paths;
}
