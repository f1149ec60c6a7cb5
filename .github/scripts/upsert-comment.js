// Create, or edit in place, the one pull-request comment that starts with MARKER, so that
// later pushes update it instead of adding a comment each time. Called by actions/github-script;
// the body comes from a file, never from text interpolated into the workflow.
const fs = require('fs');

module.exports = async ({ github, context, core }) => {
  const marker = process.env.MARKER;
  let body = fs.readFileSync(process.env.BODY_FILE, 'utf8');
  if (!body.startsWith(marker)) body = `${marker}\n${body}`;
  const { owner, repo } = context.repo;
  const issue_number = context.payload.pull_request.number;
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 });
  const mine = comments.find((c) => c.user && c.user.type === 'Bot' && c.body && c.body.startsWith(marker));
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    core.info(`updated comment ${mine.id}`);
  } else {
    const created = await github.rest.issues.createComment({ owner, repo, issue_number, body });
    core.info(`created comment ${created.data.id}`);
  }
};
