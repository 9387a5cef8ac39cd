// The page is served and is the lanchat client: title, Content-Security-Policy
// header and the login form. Nothing here depends on the client's JavaScript.

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export async function test_page_loads_with_title_csp_and_login_form(t) {
  const server = await t.startServer();
  const page = await t.newPage();
  const response = await page.goto(server.url + '/');
  assert(response, 'no response for /');
  assert(response.status() === 200, `GET / answered ${response.status()}`);
  const csp = await response.headerValue('content-security-policy');
  assert(csp && csp.trim(), `GET / has no Content-Security-Policy header: ${JSON.stringify(response.headers())}`);
  const title = await page.title();
  assert(title === 'lanchat', `title is ${JSON.stringify(title)}, not "lanchat"`);
  assert(await page.locator('#login-form').count() === 1, 'no #login-form in the page');
  await t.screenshot(page, 'smoke');
}
