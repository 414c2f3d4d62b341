from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0010_event_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="verificationevent",
            name="is_test",
            field=models.BooleanField(
                default=False,
                help_text="The event concerns a test number (OTP_TEST_NUMBERS): no SMS was sent and no limit counted it.",
                verbose_name="test number",
            ),
        ),
        migrations.CreateModel(
            name="BotChallengeTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField(help_text="Start of the hour counted.")),
                (
                    "outcome",
                    models.CharField(
                        choices=[("passed", "passed"), ("failed", "failed"), ("unreachable", "provider unreachable")],
                        help_text="How the challenge ended.",
                        max_length=16,
                    ),
                ),
                ("count", models.PositiveIntegerField(default=0, help_text="Sends with this outcome in that hour.")),
            ],
            options={
                "verbose_name": "bot challenge tally",
                "verbose_name_plural": "bot challenge tallies",
                "constraints": [
                    models.UniqueConstraint(fields=("hour", "outcome"), name="bot_challenge_tally_per_hour_outcome")
                ],
            },
        ),
    ]
