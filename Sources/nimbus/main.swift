import NimbusCLI

await NimbusCommand.runMain()
