// Open (or comment on) the one open issue that reports drift of STACK.
module.exports = async ({ github, context }) => {
  const stack = process.env.STACK;
  const title = `Drift detected in stack ${stack}`;
  const { owner, repo } = context.repo;
  const run = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const body = `\`pulumi refresh --preview-only --expect-no-changes\` found changes in \`${stack}\`: ${run}`;
  const open = await github.paginate(github.rest.issues.listForRepo, { owner, repo, state: 'open', labels: 'drift' });
  const existing = open.find((i) => i.title === title);
  if (existing) {
    await github.rest.issues.createComment({ owner, repo, issue_number: existing.number, body });
  } else {
    await github.rest.issues.create({ owner, repo, title, body, labels: ['drift'] });
  }
};
