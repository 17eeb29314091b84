from wdtpanel import create_app

app = create_app()
