import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// Every ```ts block of every README is type-checked against the sources, so examples cannot rot.
it('every README example type-checks', () => {
  const root = join(__dirname, '..');
  let output = '';
  try {
    output = execFileSync(process.execPath, [join(root, 'scripts/readme-examples.mjs')], { cwd: root, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const { stdout, stderr } = err as { stdout: string; stderr: string };
    throw new Error(`README examples do not type-check:\n${stdout}${stderr}`);
  }
  expect(output).toMatch(/^\d+ README examples type-check/);
}, 60_000);
