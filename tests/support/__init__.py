"""What the tests share: renderings of the program, the policy pack driven offline, the browser, the SSM deploy of a rendering."""
